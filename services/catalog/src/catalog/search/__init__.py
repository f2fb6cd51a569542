"""Search of the catalogue (事项检索): the index kept on publish, and `GET /items`."""

from catalog.search.index import index_item, reindex_all, unindex_item

__all__ = ["index_item", "reindex_all", "unindex_item"]
