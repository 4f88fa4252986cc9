"""Extensions, created unbound; create_app() calls each init_app."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect

from gxmachinery.db import Base


class GxApi(Api):
    """Errors are rendered by gxmachinery.errors for API and pages alike."""

    def _register_error_handlers(self) -> None:  # noqa: D401 - one error handler app-wide
        return None


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, compare_server_default=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()
talisman = Talisman()
api = GxApi()
