"""Extension singletons shared by every application instance.

Flask-AppBuilder's ``AppBuilder`` keeps per-application state (views, menu), so
:func:`core.app.create_app` makes a new one for each application; it is reached through
``current_app.appbuilder``.
"""

from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

# Objects keep their loaded values after a commit (no reload per attribute); reads that
# decide a write lock and refresh their rows (``core.services.access.get_case``).
db = SQLA(session_options={"expire_on_commit": False})
migrate = Migrate()
