"""The torch layer: modules and builders for the families' specs."""
