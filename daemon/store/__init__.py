from veilcam.store.database import db_path
from veilcam.store.store import Picture, Store

__all__ = ["Picture", "Store", "db_path"]
