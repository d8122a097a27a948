from veilcam.store.store import Picture, Store, db_path

__all__ = ["Picture", "Store", "db_path"]
