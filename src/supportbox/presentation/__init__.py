"""Presentations: a representative's screen shown to attendees in browsers."""
