"""What the apps' admin modules share."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the workers write (snapshots, trained models): here to be looked at, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
