#!/usr/bin/env bash
# The layer rule of docs/internals.md, checked on every #include:
#   core < tasks < config < models < train < io < runner
# A file of layer L may include headers of L and of the layers before it,
# never after; the numeric layers (core .. train) include neither <mpi.h>
# nor <hdf5.h>; and the headers include each other without a cycle.
# Usage: check_layers.sh SOURCE_DIR. Prints each violation; exit 1 if any.
set -euo pipefail
root=${1:?usage: check_layers.sh SOURCE_DIR}
layers=(core tasks config models train io runner)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }
bad=0 checked=0
for layer in "${layers[@]}"; do
  mine=$(rank "$layer")
  for f in "$root"/src/"$layer"/*.c "$root"/include/ntasweep/"$layer"/*.h; do
    [ -e "$f" ] || continue
    checked=$((checked + 1))
    while IFS= read -r inc; do
      other=${inc#ntasweep/}; other=${other%%/*}
      r=$(rank "$other")
      if [ "$r" -lt 0 ]; then
        echo "${f#"$root"/}: includes $inc, which is in no layer folder"; bad=$((bad + 1))
      elif [ "$r" -gt "$mine" ]; then
        echo "${f#"$root"/}: layer $layer includes $inc of the higher layer $other"; bad=$((bad + 1))
      fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(ntasweep\/[^"]*\)".*/\1/p' "$f")
    if [ "$mine" -le "$(rank train)" ] && grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(mpi|hdf5|hdf5_hl)\.h>' "$f"; then
      echo "${f#"$root"/}: the numeric layer $layer includes MPI or HDF5"; bad=$((bad + 1))
    fi
  done
done
# Header cycles: tsort reports a loop in the header include graph.
edges=$(for h in "$root"/include/ntasweep/*/*.h; do
  me=${h#"$root"/include/}
  echo "$me $me"
  sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(ntasweep\/[^"]*\)".*/\1/p' "$h" | while read -r inc; do echo "$inc $me"; done
done)
if ! out=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null) || [ -n "$out" ]; then
  echo "include cycle among headers:"; echo "$out"; bad=$((bad + 1))
fi
echo "check_layers: $checked files checked, $bad violations"
[ "$bad" -eq 0 ]
