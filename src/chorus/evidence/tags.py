"""What happened: every ledger action is one of these ``source:subject:action`` tags.

Adding an event kind means adding a member here; the ledger refuses any other string, so
the custody log of a bundle always reads the same way.
"""

from __future__ import annotations

from enum import StrEnum


class EventTag(StrEnum):
    # cases
    REPORT_RECEIVED = "cases:report:received"
    REPORT_CLASSIFIED = "cases:report:classified"
    REPORT_RECLASSIFIED = "cases:report:reclassified"
    LINK_SUGGESTED = "cases:link:suggested"
    LINK_CONFIRMED = "cases:link:confirmed"
    LINK_REJECTED = "cases:link:rejected"
    SERIES_MEMBER_ADDED = "cases:series:member_added"
    SERIES_MEMBER_REMOVED = "cases:series:member_removed"
    SERIES_ASSIGNED = "cases:series:assigned"
    CASE_DATA_DELETED = "cases:case:data_deleted"
    CASE_OWN_DETAILS_SEEN = "cases:case:own_details_seen"
    CASE_CHOICES_UPDATED = "cases:case:choices_updated"
    CASE_DATA_EXPORTED = "cases:case:data_exported"
    CASE_DELETION_REQUESTED = "cases:case:deletion_requested"
    CASE_DELETION_CANCELLED = "cases:case:deletion_cancelled"
    CASE_CONTACT_ASSIGNED = "cases:contact:assigned"
    CASE_CLOSED = "cases:case:closed"
    CASE_TRANSFERRED = "cases:case:transferred"
    CASE_REOPEN_REQUESTED = "cases:case:reopen_requested"
    CASE_REOPENED = "cases:case:reopened"
    MESSAGE_SENT = "cases:message:sent"
    MESSAGE_RECEIVED = "cases:message:received"
    SERIES_CONNECTIONS_VIEWED = "cases:series:connections_viewed"
    NOTE_DELIVERED = "cases:note:delivered"  # a neutral note emailed, or given by a call
    # matching
    FINGERPRINTS_REGISTERED = "matching:fingerprints:registered"
    FINGERPRINTS_WITHDRAWN = "matching:fingerprints:withdrawn"
    # monitor
    SIGHTING_RECORDED = "monitor:sighting:recorded"
    REMOVAL_VERIFIED = "monitor:sighting:removal_verified"
    SIGHTING_REAPPEARED = "monitor:sighting:reappeared"
    SIGHTING_HELD = "monitor:sighting:held_for_review"
    SIGHTING_CONFIRMED = "monitor:sighting:confirmed"
    SIGHTING_REJECTED = "monitor:sighting:rejected"
    # takedowns
    NOTICE_DRAFTED = "takedowns:notice:drafted"
    NOTICE_SENT = "takedowns:notice:sent"
    NOTICE_ANSWERED = "takedowns:notice:answered"
    NOTICE_ACKNOWLEDGED = "takedowns:notice:acknowledged"
    NOTICE_REFUSED = "takedowns:notice:refused"
    NOTICE_RENOTICED = "takedowns:notice:renoticed"
    NOTICE_WITHDRAWN = "takedowns:notice:withdrawn"
    TAKEDOWN_OPENED = "takedowns:takedown:opened"
    TAKEDOWN_REMOVAL_VERIFIED = "takedowns:takedown:removal_verified"
    TAKEDOWN_REOPENED = "takedowns:takedown:reopened"
    TAKEDOWN_RECIPIENTS_FOUND = "takedowns:takedown:recipients_found"
    ESCALATION_PROPOSED = "takedowns:escalation:proposed"
    ESCALATION_APPROVED = "takedowns:escalation:approved"
    ESCALATION_DECLINED = "takedowns:escalation:declined"
    # evidence
    CAPTURE_STORED = "evidence:capture:stored"
    CAPTURE_VIEWED = "evidence:capture:viewed"
    CAPTURE_DISCARDED = "evidence:capture:discarded"
    BUNDLE_EXPORTED = "evidence:bundle:exported"
    SIGNING_KEY_ROTATED = "evidence:signing_key:rotated"
