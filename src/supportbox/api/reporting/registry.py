"""Every report name of spec 5.1 this server answers, with its permission."""

from __future__ import annotations

from dataclasses import dataclass

from supportbox.api.reporting import (
    archive,
    license,
    presentation,
    recordings,
    sessions,
    summary,
    surveys,
    team,
)
from supportbox.api.reporting.context import Builder

SUPPORT = "perm_reporting_support"
PRESENTATION = "perm_reporting_presentation"
LICENSE = "perm_reporting_license"
ARCHIVE = "perm_reporting_archive"


@dataclass(frozen=True)
class Report:
    name: str
    permission: str
    build: Builder


REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report("SupportSession", SUPPORT, sessions.support_session),
        Report("SupportSessionListing", SUPPORT, sessions.support_session_listing),
        Report("SupportSessionSummary", SUPPORT, summary.support_session_summary),
        Report(
            "SupportSessionRecording", SUPPORT, recordings.recording_report("screen")
        ),
        Report(
            "ShowMyScreenRecording",
            SUPPORT,
            recordings.recording_report("show_my_screen"),
        ),
        Report("CommandShellRecording", SUPPORT, recordings.recording_report("shell")),
        Report(
            "SupportCustExitSurvey", SUPPORT, surveys.exit_survey_report("customer")
        ),
        Report("SupportRepExitSurvey", SUPPORT, surveys.exit_survey_report("rep")),
        Report("SupportTeam", SUPPORT, team.support_team),
        Report("PresentationSession", PRESENTATION, presentation.presentation_session),
        Report(
            "PresentationSessionListing",
            PRESENTATION,
            presentation.presentation_session_listing,
        ),
        Report(
            "PresentationSessionRecording",
            PRESENTATION,
            recordings.recording_report("presentation"),
        ),
        Report("LicenseUsage", LICENSE, license.license_usage),
        Report("ArchiveListing", ARCHIVE, archive.archive_listing),
        Report("Archive", ARCHIVE, archive.archive),
    )
}
