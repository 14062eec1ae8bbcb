"""Entry file Airflow finds in the plugins folder: the Integration Log and Sync Details pages."""

from ajera_crm.ui.plugin import AjeraCrmUiPlugin

__all__ = ["AjeraCrmUiPlugin"]
