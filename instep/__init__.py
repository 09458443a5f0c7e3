"""INSTEP Open Data: sustainability data from textile and apparel industrial parks, published openly."""

__version__ = "0.1.0"
