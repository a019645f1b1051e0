// `coroscope-lint merge`: combines the reports of shard runs (--shard K/N, JSON or SARIF) into one report, with
// the transitive analysis solved again over every shard's summaries, so findings whose chain crosses shards
// are found exactly as in an unsharded run.
#pragma once

namespace coroscope::lint {

// argv[0] is "merge". Exit status as coroscope-lint's: 0 no findings, 1 findings, 2 usage or input error (or
// a shard reported files that did not parse).
int runMerge(int argc, const char** argv);

}  // namespace coroscope::lint
