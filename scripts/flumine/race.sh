# Sourced by scripts/bench-flumine and scripts/bench-threads (from the
# repository root, with $clever the binary to time): both example
# strategies built, the real race decompressed into target/bench-data,
# and $ours, the backtest both time (the file to read goes last).
lay=$("$clever" build plugins/lay-low-inplay | tail -n 1)
back=$("$clever" build plugins/back-fav-preoff | tail -n 1)

race=../shared/data/betfair/1-206064380.bz2
data=target/bench-data
mkdir -p "$data"
plain="$data/1-206064380"
bzcat "$race" > "$plain"

ours="$clever backtest --plugin $lay --plugin $back --risk scripts/flumine/risk.toml --json --data"
