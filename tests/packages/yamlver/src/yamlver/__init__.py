from yamlver._yamlver import version

__all__ = ["version"]
