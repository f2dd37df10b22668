"""Offline tile packs for the maps: the ui reaches files the store reads through here."""
from emdesk.store.tile_packs import PackInfo, TilePack, TilePackError, open_tile_pack

__all__ = ["PackInfo", "TilePack", "TilePackError", "open_tile_pack"]
