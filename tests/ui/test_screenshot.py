"""Headless screenshots: a real PNG with real content, after the data has loaded."""
import pytest
from PySide6.QtGui import QImage

from emdesk.domain.users import Role
from emdesk.ui.screenshot import ScreenshotError, render_workspace


def grey_variance(image: QImage, step: int = 8) -> float:
    values = [image.pixelColor(x, y).lightness()
              for y in range(0, image.height(), step) for x in range(0, image.width(), step)]
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


@pytest.mark.parametrize("role", [Role.FIELD_OFFICER, Role.TECHNICIAN, Role.MONITORING_OPERATOR, Role.SUPERVISOR])
def test_screenshot_is_a_non_blank_png(qtbot, ctx_for, tmp_path, role):
    out = render_workspace(ctx_for(role), str(tmp_path / "shots" / f"{role.value}.png"), size=(1280, 800))
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    assert grey_variance(image) > 100, "the screenshot is (nearly) one flat colour"


def test_unknown_workspace_is_a_clear_error(ctx_for, tmp_path):
    with pytest.raises(ScreenshotError, match="no workspace 'orders' for a technician"):
        render_workspace(ctx_for(Role.TECHNICIAN), str(tmp_path / "x.png"), workspace="orders")


def test_data_that_never_arrives_times_out_clearly(ctx_for, tmp_path):
    import threading

    ctx = ctx_for(Role.TECHNICIAN)
    release = threading.Event()
    original = ctx.cases.stock

    def slow_stock(state=None, region=None):
        release.wait(10)
        return original(state, region)

    ctx.cases.stock = slow_stock
    try:
        with pytest.raises(ScreenshotError, match="did not load within 0.2 s"):
            render_workspace(ctx, str(tmp_path / "x.png"), timeout_s=0.2)
    finally:
        release.set()
