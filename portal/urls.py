from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from dashboard import views as dashboard_views
from portal import two_factor
from portal.health import healthz

urlpatterns = [
    # The home page: what needs doing, and where orders stand (issue 14).
    path("", dashboard_views.home, name="home"),
    path("dashboard/", include("dashboard.urls")),
    path("notifications/", include("notifications.urls")),
    # Load balancer probe (and the trivial page of the load test): no login, no database.
    path("healthz/", healthz, name="healthz"),
    path("orders/", include("orders.urls")),
    # Lines of a session from a sheet (bulk/): template, upload, preview, import, export.
    path("orders/<int:session_pk>/import/", include("bulk.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Second factor (TOTP): the step after the password, and enrolment.
    path("login/verify/", two_factor.verify, name="two_factor_verify"),
    path("account/two-factor/", two_factor.enrol, name="two_factor_enrol"),
    path("account/two-factor/qr.svg", two_factor.qr_code, name="two_factor_qr"),
    path("account/two-factor/disable/", two_factor.disable, name="two_factor_disable"),
    # The language switch (POST with CSRF); open on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("exports/", include("exports.urls")),
    path("reconciliation/", include("reconciliation.urls")),
    path("directory/", include("directory.urls")),
    path("admin/", admin.site.urls),
]
