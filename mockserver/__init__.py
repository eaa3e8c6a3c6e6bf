"""In-memory fake of the Ona EnvironmentAutomationService."""
