"""The write path's published checkpoint cache: receipts it builds are the published ones.

``PublishedCache`` keeps the judged checkpoint and remembered subtree hashes so a
POST's receipt costs almost nothing; whatever it returns must be byte-identical to
what ``receipt_text`` builds from ``published_checkpoint`` and must verify.
"""

from __future__ import annotations

import threading
from pathlib import Path

from api.bench_setup import COMMUNITY, found_bench, signed_entries
from ledger.core.policy import Policy
from ledger.store.publish import PublishedCache, published_checkpoint, receipt_text
from ledger.store.service import Appended, LedgerService
from verify.receipt import verify_receipt


def _submit_concurrently(service: LedgerService, bodies: list[bytes]) -> list[Appended]:
    results: list[Appended] = []
    lock = threading.Lock()

    def one(body: bytes) -> None:
        appended = service.submit(COMMUNITY, body)
        with lock:
            results.append(appended)

    threads = [threading.Thread(target=one, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_cached_receipts_verify_and_equal_the_published_ones(tmp_path: Path) -> None:
    bench = found_bench(tmp_path, f"sqlite:///{tmp_path / 'bench.db'}")
    service = LedgerService(bench.db_url, [bench.log_key])
    try:
        cache = PublishedCache(service)
        policy = Policy.parse(bench.policy_file.read_text(encoding="utf-8"))
        bodies = signed_entries(bench, 300)
        for chunk in (bodies[:5], bodies[5:40], bodies[40:262], bodies[262:]):  # past a tile
            for appended in _submit_concurrently(service, chunk):
                receipt = cache.receipt(COMMUNITY, appended.index)
                assert receipt is not None
                assert verify_receipt(receipt, policy).ok
        cache.invalidate(COMMUNITY)
        published = published_checkpoint(service, COMMUNITY)
        assert published.verified.size == 302
        for index in range(302):
            assert cache.receipt(COMMUNITY, index) == receipt_text(service, published, index)
        assert cache.receipt(COMMUNITY, 302) is None  # not logged: nothing to prove
    finally:
        service.close()
