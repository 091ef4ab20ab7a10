"""CPU seconds of a snapshot card's counts and analysts' agreement (`tallies.SplitTally`).

    python -m bench.card_tally --articles 2000 --runs 7
    python -m bench.card_tally --articles 2000 --runs 7 --code /work/wt/base   # an older checkout's

An "every analyst" snapshot counts, as it writes each record, its spans, labels, topics and
stances and the agreement between its analysts (every pair's span matches, topic and stance
tables, Krippendorff's units): `build._write` hands each record to `SplitTally.add`. This times
that alone, over the workload's records (`bench.token_formats.records`: two analysts, about 20
spans each), decoded from their JSONL lines as the build decodes them (not timed), spread over
the three splits. Best of `--runs` CPU seconds (`time.process_time`): the machine is shared.
The last line is the card's agreement, so that two checkouts' figures can be compared too.
`--code` puts an older checkout's `annotator` first on the path: run it and this checkout in
turn for a before/after.
"""

import argparse
import gc
import time
from pathlib import Path

from bench.common import setup_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--code", type=Path, help="a checkout whose annotator package to time (default: this one)")
    args = parser.parse_args()
    setup_code(args.code)
    import orjson

    import annotator
    from annotator.datasets.splits import SPLITS
    from annotator.datasets.tallies import SplitTally
    from bench.token_formats import records, schema

    lines = records(args.articles)
    best, tally = None, None
    for _ in range(args.runs):
        decoded = [orjson.loads(line) for line in lines]
        gc.collect()
        start = time.process_time()
        tally = SplitTally(schema(), True)
        for number, record in enumerate(decoded):
            tally.add(record, SPLITS[number % 3])
        seconds = time.process_time() - start
        best = seconds if best is None else min(best, seconds)
    print(f"code: {Path(annotator.__file__).parent.parent}; {args.articles} articles, best of {args.runs}: {best:.3f} s")
    print({split: tally.agreement[split].result().spans_overall for split in SPLITS})


if __name__ == "__main__":
    main()
