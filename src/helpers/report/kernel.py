"""The kernel notebooks run in during a build: quiet, local, and stopped without an interrupt.

Two lines used to appear in every build log: the kernel's warning that it runs over TCP
without encryption, and "KeyboardInterrupt caught in kernel" because jupyter_client sends
SIGINT before every shutdown request. Kernels here talk over IPC (Unix sockets in a private
temporary folder of the run), and a shutdown is a plain shutdown request.
"""

from __future__ import annotations

from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum
from traitlets.config import Config


class QuietKernelManager(AsyncKernelManager):
    """An IPC kernel manager that does not interrupt a kernel it is shutting down."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:
            return  # the shutdown request alone stops an idle kernel; SIGINT only adds a log line
        await super()._async_interrupt_kernel()


def kernel_config(socket_folder: Path) -> Config:
    """Configuration that puts the kernel's sockets in socket_folder (keep the path short: a socket
    path has a limit of about 100 characters)."""
    return Config({"QuietKernelManager": {"ip": str(socket_folder / "kernel")}})
