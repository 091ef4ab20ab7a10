from django.db import migrations, models
from django.utils import timezone

HANDED_OUT_BEFORE = "annotator was upgraded while this snapshot's shards were being written; make it again"


def fail_snapshots_sharded_before(apps, schema_editor):
    """A snapshot whose shards were handed out before this change has them in the old shape (one
    spool, selected by its build task), which today's shard tasks cannot write: it is failed,
    visibly, and its shard rows removed; an old worker still writing one then stops at its next
    heartbeat. Its folder is left to `snapshot_delete`."""
    Snapshot = apps.get_model("datasets", "Snapshot")
    SnapshotShard = apps.get_model("datasets", "SnapshotShard")
    sharded = Snapshot.objects.filter(status="running", shards__isnull=False).distinct()
    ids = list(sharded.values_list("pk", flat=True))
    Snapshot.objects.filter(pk__in=ids).update(status="failed", error=HANDED_OUT_BEFORE, finished_at=timezone.now())
    SnapshotShard.objects.filter(snapshot_id__in=ids).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('datasets', '0005_articletokens'),
    ]

    operations = [
        migrations.AddField(
            model_name='snapshotshard',
            name='selected',
            field=models.CharField(blank=True, db_default='', max_length=100),
        ),
        migrations.RunPython(fail_snapshots_sharded_before, migrations.RunPython.noop),
    ]
