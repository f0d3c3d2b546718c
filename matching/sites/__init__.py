"""Where a relocated activity could land: site registers, relocation projects, ranked sites.

``register`` builds and loads the on-disk register (sources in ``sources``), ``project`` reads and
checks a relocation project, ``match`` filters and scores sites with reasons in French and
English (``supply`` measures how close a site is to the French suppliers a BOM result found).
"""

from matching.sites.register import SiteRegister, build_register
from matching.sites.sources import SiteError

__all__ = ["SiteError", "SiteRegister", "build_register"]
