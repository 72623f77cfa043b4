from django.db import models


class PeriodicJobState(models.Model):
    """When a periodic job (helpline.periodic) is next due; runners claim a run by moving ``next_run_at``."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name
