"""In chromium, on the tiny demo province: a 滨江 investigator searches the story plate, sees 滨江's
rows in full and 云州's sightings masked with "request access", opens the vehicle page and the
trajectory map (city boundaries, the track, 云州 named but not placed) and its time chart, then the
owner's person file and the trajectory of their vehicles. Screenshots of each step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CASE = "A3601002026110001"
PLATE = "赣A7Q777"


def test_search_the_plate_and_follow_its_trajectory(province_server: Any, new_page: Callable[..., Any],
                                                    sign_in: Callable[..., None],
                                                    shot: Callable[[Any, str], Any]) -> None:
    inv = province_server.add_user("bj_inv_search", ["investigator"], "360102", display_name="李侦查",
                                   unit_name="滨江市公安局刑侦支队")
    page = new_page(province_server)
    sign_in(page, inv)

    # 1. one box, a purpose and the case number; the query goes in a POST, not the address
    page.click("#nav-search")
    page.fill("#q", "赣a·7q777")
    page.select_option("#purpose", "case_investigation")
    page.fill("#case_no", CASE)
    shot(page, "01-search-form")
    page.click("#search-go")
    page.wait_for_selector("#results")
    assert page.url.endswith("/search")
    vehicle = page.locator("#group-vehicle tr.record").first
    assert vehicle.get_attribute("data-access") == "allow" and PLATE in vehicle.inner_text()
    masked = page.locator('#group-sighting tr.record[data-access="mask"]')
    assert masked.count() > 0 and masked.first.get_attribute("data-city") == "360200"
    assert masked.first.locator("a.request-access").count() == 1
    assert page.locator('#group-sighting tr.record[data-access="allow"][data-city="360100"]').count() > 0
    shot(page, "02-search-results")

    # 2. the vehicle page: the record, its owner's file in 云州 (masked) and the way to the trajectory
    vehicle.locator("a.open").click()
    page.wait_for_selector("#record")
    assert page.locator("#record").get_attribute("data-access") == "allow"
    owner = page.locator('#linked-person [data-access="mask"]')
    assert owner.count() >= 1 and owner.first.get_attribute("data-city") == "360200"
    shot(page, "03-vehicle-page")

    # 3. the trajectory: boundaries from the platform, 滨江's points joined, 云州 named but not placed
    page.click("#open-trajectory")
    page.wait_for_selector('#track-map[data-ready="true"]')
    assert page.locator("#track-map path.leaflet-interactive").count() > 3  # cities, track, markers
    assert page.locator(".city-label").count() >= 1 and "云州" in page.locator(".city-label").first.inner_text()
    assert page.locator('#timeline tr[data-access="mask"][data-city="360200"]').count() > 0
    assert page.locator("#timeline tr.crossing").count() >= 1
    folder = shot(page, "04-trajectory-map").parent

    # 4. the time chart (ECharts on a canvas: no inline styles, so no CSP refusal — the fixture checks)
    page.wait_for_selector('#track-chart[data-ready="true"]')
    assert page.locator("#track-chart canvas").count() >= 1
    assert page.locator("#track-chart canvas").first.bounding_box()["height"] > 100  # type: ignore[index]
    page.locator("#track-chart").scroll_into_view_if_needed()
    page.locator("#track-chart").screenshot(path=str(folder / "05-trajectory-timeline.png"))

    # 5. the owner's vehicles from the person file (by record ID): the same map and chart, one colour a car
    page.go_back()
    page.wait_for_selector("#record")
    page.locator('#linked-person [data-access="mask"] a.open').first.click()
    page.wait_for_selector("#open-trajectory")
    page.click("#open-trajectory")
    page.wait_for_selector("#track-form")
    assert "/trajectories/person/" in page.url
    page.fill("#since", "2026-10-01")
    page.fill("#until", "2026-11-01")
    page.click("#track-go")
    page.wait_for_selector('#track-map[data-ready="true"]')
    page.wait_for_selector('#track-chart[data-ready="true"]')
    assert page.locator(f'#person-vehicles tr[data-plate="{PLATE}"] .swatch').count() == 1
    assert page.locator("#track-chart canvas").count() >= 1
    assert page.locator('table.timeline tr[data-access="mask"][data-city="360200"]').count() > 0
    shot(page, "06-person-trajectory")
