"""The subject view: one wearer's file beside the queue and the map (``view.SubjectView``)."""
from .view import SubjectView

__all__ = ["SubjectView"]
