from .connectors import ConvConnector, LinearConnector

__all__ = ['ConvConnector', 'LinearConnector']
