""" "两高" projects and production control (docs/projects.md).

- :mod:`.register`: the project register, its approvals and ledgers, and stage advances that
  refuse what a stage does not allow (rules in :mod:`kilnwatch.domain.projects`).
- :mod:`.dispatch`: daily dispatch of output and energy per project from metered data.
- :mod:`.visits`: monthly on-site supervision records and their follow-ups.
- :mod:`.control`: production caps, resident supervisors and their weekly logs.
- :mod:`.weekly`: the city's weekly joint report: figures, four signatures, submission, and
  the province's view of late cities, differences and cap breaches.

The control files (approvals, ledgers, caps, supervisors) are imported by
:mod:`kilnwatch.ingest.project_control`.

Services take a session and a principal, scope through ``store/repos/scope.py`` and flush;
the caller commits.
"""
