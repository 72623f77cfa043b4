"""What the vault adds to saving and reading a 1 KB note.

    DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpline \
        .venv/bin/python bench/vault.py [--rounds 30] [--per-round 50]

Runs in a throwaway database (Django's test-database machinery, named
``test_bench_vault``) with a throwaway key set, so it never touches real data
or real keys. Compares, in interleaved rounds so that machine noise hits both
sides alike:

- save: seal + INSERT of testapp.NoteComment  vs  INSERT of testapp.PlainComment
- read: SELECT joining the parent and its data key + unseal  vs  SELECT joining the parent
- read in case (the parent and its key already in memory, as when listing a
  case's notes): SELECT + unseal  vs  SELECT

NoteComment is sealed under its parent Note's data key, as a case note is
under its case's; PlainComment is the same table with a text column. One more
line, for information: creating a record with its own data key (a contact or
a case), which costs an extra INSERT once per record, not per note.
Figures are per operation (median of the rounds' means); the ratios matter,
the absolute numbers depend on the machine.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.in_process import django_in_process  # noqa: E402

django_in_process()

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

NOTE_BYTES = 1024
WORDS = "the child says he met someone online who now threatens to share pictures unless she sends more".split()


def note_text(rng: random.Random) -> str:
    text = ""
    while len(text) < NOTE_BYTES:
        text += rng.choice(WORDS) + " "
    return text[:NOTE_BYTES]


def run(*, rounds: int, per_round: int) -> dict:
    from helpline.vault.services import datakey_create, seal, unseal
    from tests.testapp.models import Note, NoteComment, PlainComment

    rng = random.Random(20261122)
    texts = [note_text(rng) for _ in range(64)]
    # The record being worked on (a case), loaded with its data key as a view would.
    parent = Note.objects.create(data_key=datakey_create(), title="case")
    parent = Note.objects.select_related("data_key").get(pk=parent.pk)

    def save_encrypted(i):
        comment = NoteComment(note=parent)
        seal(comment, "body", texts[i % 64])
        comment.save(force_insert=True)

    def save_plain(i):
        PlainComment(note=parent, body=texts[i % 64]).save(force_insert=True)

    def create_record_with_own_key(i):
        record = Note(data_key=datakey_create(), title="contact")
        seal(record, "body", texts[i % 64])
        record.save(force_insert=True)

    # Rows to read back: the same count and texts on both sides.
    for i in range(256):
        save_encrypted(i)
        save_plain(i)
    encrypted_ids = list(NoteComment.objects.values_list("pk", flat=True))
    plain_ids = list(PlainComment.objects.values_list("pk", flat=True))

    def read_encrypted(i):
        comment = NoteComment.objects.select_related("note__data_key").get(pk=encrypted_ids[i % len(encrypted_ids)])
        assert len(unseal(comment, "body")) == NOTE_BYTES

    def read_plain(i):
        comment = PlainComment.objects.select_related("note").get(pk=plain_ids[i % len(plain_ids)])
        assert len(comment.body) == NOTE_BYTES

    def read_encrypted_parent_loaded(i):
        comment = NoteComment.objects.get(pk=encrypted_ids[i % len(encrypted_ids)])
        comment.note = parent  # listing one case's notes: the case and its key are in memory
        assert len(unseal(comment, "body")) == NOTE_BYTES

    def read_plain_parent_loaded(i):
        assert len(PlainComment.objects.get(pk=plain_ids[i % len(plain_ids)]).body) == NOTE_BYTES

    operations = {
        "save, plain": save_plain,
        "save, plain (A/A control)": save_plain,
        "save, encrypted": save_encrypted,
        "read, plain": read_plain,
        "read, encrypted": read_encrypted,
        "read in case, plain": read_plain_parent_loaded,
        "read in case, plain (A/A control)": read_plain_parent_loaded,
        "read in case, encrypted": read_encrypted_parent_loaded,
        "new record with own data key": create_record_with_own_key,
    }
    for operation in operations.values():  # warm up caches and the connection
        for i in range(50):
            operation(i)

    samples = {name: [] for name in operations}
    cpu_samples = {name: [] for name in operations}
    counter = 0
    for _ in range(rounds):
        order = list(operations.items())
        rng.shuffle(order)
        for name, operation in order:
            started, cpu_started = time.perf_counter(), time.thread_time()
            for _ in range(per_round):
                operation(counter)
                counter += 1
            samples[name].append((time.perf_counter() - started) / per_round * 1e6)
            cpu_samples[name].append((time.thread_time() - cpu_started) / per_round * 1e6)

    # The cryptography alone, for scale.
    comment = NoteComment(note=parent)
    started = time.perf_counter()
    for i in range(2000):
        seal(comment, "body", texts[i % 64])
        unseal(comment, "body")
    crypto_only = (time.perf_counter() - started) / 2000 * 1e6
    return {"samples": samples, "cpu_samples": cpu_samples, "crypto_only": crypto_only}


def ratio(samples: dict, encrypted: str, plain: str) -> tuple[float, float]:
    """Ratio of the medians, and the median of per-round ratios (robust to a noisy round)."""
    medians = statistics.median(samples[encrypted]) / statistics.median(samples[plain])
    per_round = statistics.median(e / p for e, p in zip(samples[encrypted], samples[plain], strict=True))
    return medians, per_round


COMPARISONS = (
    ("A/A save (noise)", "save, plain (A/A control)", "save, plain"),
    ("A/A read (noise)", "read in case, plain (A/A control)", "read in case, plain"),
    ("save", "save, encrypted", "save, plain"),
    ("read in case", "read in case, encrypted", "read in case, plain"),
    ("read alone", "read, encrypted", "read, plain"),
)


def report(result: dict, *, rounds: int, per_round: int) -> None:
    wall, cpu = result["samples"], result["cpu_samples"]
    print(f"vault benchmark on {connection.vendor}: {rounds} rounds x {per_round} operations, 1 KB note")
    print(f"  {'operation':34s} {'wall us/op':>10s} {'client CPU us/op':>17s}   (medians of rounds)")
    for name in wall:
        print(f"  {name:34s} {statistics.median(wall[name]):10.1f} {statistics.median(cpu[name]):17.1f}")
    print(f"  {'seal + unseal, no database':34s} {result['crypto_only']:10.1f}")
    print("encrypted / plain: wall (ratio of medians, median of per-round ratios), client CPU (ratio of medians)")
    for label, encrypted, plain in COMPARISONS:
        of_medians, per_round_median = ratio(wall, encrypted, plain)
        cpu_ratio = statistics.median(cpu[encrypted]) / statistics.median(cpu[plain])
        print(f"  {label:18s} wall {of_medians:.3f} {per_round_median:.3f}   CPU {cpu_ratio:.3f}")
    print("goal: encryption adds < 15% to a note save and read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--per-round", type=int, default=50)
    args = parser.parse_args()

    connection.settings_dict.setdefault("TEST", {})["NAME"] = "test_bench_vault"
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        result = run(rounds=args.rounds, per_round=args.per_round)
    finally:
        teardown_databases(old_config, verbosity=0)
    report(result, rounds=args.rounds, per_round=args.per_round)


if __name__ == "__main__":
    main()
