"""Entry file Airflow finds in the plugins folder: the plugins of the ajera_crm package (the run-note listener,
and the Integration Log and Sync Details pages). ``.airflowignore`` keeps Airflow from also importing each
module of the package on its own, as a top-level module, which would register these plugins twice."""

from ajera_crm.run_notes import AjeraCrmRunNotesPlugin
from ajera_crm.ui.plugin import AjeraCrmUiPlugin

__all__ = ["AjeraCrmRunNotesPlugin", "AjeraCrmUiPlugin"]
