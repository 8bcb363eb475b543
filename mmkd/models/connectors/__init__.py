from .connectors import ConvConnector, LinearConnector
from .token_to_map import TokenToMapConnector

__all__ = ['ConvConnector', 'LinearConnector', 'TokenToMapConnector']
