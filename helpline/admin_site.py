from django.contrib.admin import AdminSite


def require_verified_admin(site: AdminSite) -> None:
    """The admin answers only staff users with a verified second factor.

    The middleware already sends unverified users to 2FA; this closes the admin's
    own permission check too, so a misordered middleware cannot open it.
    """

    def has_permission(request):
        user = request.user
        return user.is_active and user.is_staff and user.is_verified()

    site.has_permission = has_permission
