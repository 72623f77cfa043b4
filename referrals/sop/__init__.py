"""Standard operating procedures: SOP documents per line, their versions, and the engine.

A Django app of its own inside ``referrals`` (label ``sop``) so that its models and
migrations stay apart from the referral lifecycle's. The map:

- ``vocabulary``: the words a document may use (conditions' values, share fields, …);
- ``engine``: pure ``evaluate(facts, sop) -> [Proposal]``, no ORM;
- ``schema``: the JSON Schema (docs/sop.schema.json); ``document``: YAML in, ``Sop`` or
  errors with line, column and rule id out;
- ``models`` (``SopVersion``), ``services`` (draft, activate, import; audited),
  ``selectors`` (``sop_active_for(line)``), views for administrators, commands
  ``sop_import`` / ``sop_export`` / ``sop_schema``; ``demo`` the demo SOP.

docs/SOP.md describes the format for people who write SOPs.
"""
