<?xml version="1.0" encoding="UTF-8"?>
<!-- Lays out every top-level element of a block of PubMed XML as text, in one pass in C (libxslt):
     elements end with U+E000, fields with U+E001, list items with U+E002, parts of an item are
     separated by U+E003 (private-use characters, which PubMed text does not carry). An article
     starts with "A", anything else is "X" (read element by element in Python). The field order is
     the one helpers.sources.pubmed_xml._laid_out unpacks; the paths are the ones parse_article
     walks, and a test holds the two readings equal. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:variable name="F" select="'&#xE001;'"/>
  <xsl:variable name="I" select="'&#xE002;'"/>
  <xsl:variable name="P" select="'&#xE003;'"/>

  <xsl:template match="/*">
    <xsl:for-each select="*">
      <xsl:choose>
        <xsl:when test="self::PubmedArticle and MedlineCitation"><xsl:call-template name="article"/></xsl:when>
        <xsl:otherwise><xsl:text>X</xsl:text></xsl:otherwise>
      </xsl:choose>
      <xsl:text>&#xE000;</xsl:text>
    </xsl:for-each>
  </xsl:template>

  <xsl:template name="article">
    <xsl:variable name="c" select="MedlineCitation"/>
    <xsl:variable name="a" select="MedlineCitation/Article"/>
    <xsl:variable name="i" select="$a/Journal/JournalIssue"/>
    <xsl:variable name="d" select="($i/PubDate | $a/ArticleDate[not($i/PubDate)])[1]"/>
    <xsl:text>A</xsl:text>
    <xsl:value-of select="concat($F, normalize-space($c/PMID), $F, normalize-space($a/ArticleTitle))"/>
    <xsl:value-of select="concat($F, normalize-space($a/VernacularTitle[1]), $F, normalize-space($a/Journal/Title))"/>
    <xsl:value-of select="concat($F, normalize-space($a/Journal/ISOAbbreviation), $F, normalize-space($i/Volume))"/>
    <xsl:value-of select="concat($F, normalize-space($i/Issue), $F, normalize-space($a/Pagination/MedlinePgn))"/>
    <xsl:value-of select="concat($F, $a/Pagination/StartPage, $F, $a/Pagination/EndPage)"/>
    <xsl:value-of select="concat($F, normalize-space($a/ELocationID[1][@EIdType='doi']))"/>
    <xsl:value-of select="concat($F, $d/Year, $F, $d/Month, $F, $d/Day, $F, $d/MedlineDate)"/>
    <xsl:value-of select="concat($F, normalize-space($a/Language[1]), $F)"/>
    <xsl:for-each select="$a/Abstract/AbstractText">
      <xsl:value-of select="concat(@Label, $P, normalize-space(.), $I)"/>
    </xsl:for-each>
    <xsl:value-of select="$F"/>
    <xsl:for-each select="$a/AuthorList/Author">
      <xsl:value-of select="concat(normalize-space(CollectiveName), $P, LastName, $P, Initials)"/>
      <xsl:for-each select="AffiliationInfo/Affiliation"><xsl:value-of select="concat($P, normalize-space(.))"/></xsl:for-each>
      <xsl:value-of select="$I"/>
    </xsl:for-each>
    <xsl:value-of select="$F"/>
    <xsl:for-each select="$c/KeywordList/Keyword"><xsl:value-of select="concat(normalize-space(.), $I)"/></xsl:for-each>
    <xsl:value-of select="$F"/>
    <xsl:for-each select="$c/MeshHeadingList/MeshHeading/DescriptorName">
      <xsl:value-of select="concat(normalize-space(.), $I)"/>
    </xsl:for-each>
    <xsl:value-of select="$F"/>
    <xsl:for-each select="$a/PublicationTypeList/PublicationType">
      <xsl:value-of select="concat(normalize-space(.), $I)"/>
    </xsl:for-each>
    <xsl:value-of select="$F"/>
    <xsl:for-each select="PubmedData/ArticleIdList/ArticleId">
      <xsl:value-of select="concat(@IdType, $P, normalize-space(.), $I)"/>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
