"""Catalog service: the standardised item catalogue (事项目录, 八统一) and its search."""
