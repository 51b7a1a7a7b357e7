"""Tables: Faust-style Table, GlobalTable, SetTable, SetGlobalTable with changelogs."""
