"""Supervision on top of the closed loop: case-file review (案卷评查), rectification notices
(整改通知) and their escalation, filing and closing conditions (立案/结案条件)."""
