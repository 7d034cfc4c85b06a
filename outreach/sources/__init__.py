"""Sources of facts outside the user's YAML: meetings (iCalendar), articles, contact imports."""
