"""Rule changes for a legal reviewer: two versions of the policy files compared in the
document's words (``compare``), whose answers change (``impact``), and the report
(``report``) rendered for a pull request or a tool (``render``)."""
