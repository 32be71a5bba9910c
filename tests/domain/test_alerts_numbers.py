"""Alert messages name a sighting by its incident number (S-0142), as the queue does."""

from __future__ import annotations

from tests.domain.test_alerts import alerts_for, assignment, sighting

SIGHTING = "7f9c2d1e-4b3a-4c5d-9e8f-0a1b2c3d4e5f"


def test_an_unassigned_sighting_alert_names_its_number():
    numbered = {**sighting(age_ms=3_600_000), "number": "S-0142"}
    alert = alerts_for(sightings=[numbered], assignments=[])[f"sighting_unassigned:{SIGHTING}"]
    assert "S-0142 has no patrol" in alert.message
    assert SIGHTING[:8] not in alert.message


def test_without_a_number_the_short_id_is_shown():
    alert = alerts_for(sightings=[sighting(age_ms=3_600_000)], assignments=[])[f"sighting_unassigned:{SIGHTING}"]
    assert f"{SIGHTING[:8]} has no patrol" in alert.message


def test_an_unacknowledged_assignment_alert_names_the_sightings_number():
    numbered = {**sighting(), "number": "S-0007"}
    alerts = alerts_for(sightings=[numbered], assignments=[assignment(age_ms=3_600_000)])
    message = alerts["assignment_unacknowledged:asg-000001"].message
    assert message.startswith("BAC-12 has not acknowledged its assignment to S-0007 (sent "), message
    alone = alerts_for(assignments=[assignment(age_ms=3_600_000)])["assignment_unacknowledged:asg-000001"]
    assert "assignment asg-0000" in alone.message, "no sighting in the picture: the assignment's id"
