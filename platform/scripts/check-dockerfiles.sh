#!/usr/bin/env bash
# Checks that every service under services/ is complete and consistent:
#   - services/<name>/Dockerfile, VERSION (semver) and .gitlab-ci.yml exist;
#   - the root .gitlab-ci.yml includes services/<name>/.gitlab-ci.yml;
#   - the Dockerfile builds, copies and runs its own service (and names no
#     other service), and its cmd/<name>/main.go exists;
#   - the Dockerfiles (and the .gitlab-ci.yml files) are identical once the
#     service name, the port and any extra binaries are masked, so the nine
#     copies cannot drift apart.
# Services are the directories under services/ plus the ./services/* entries
# of go.work. Exits non-zero and names every offender.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Per-service differences that are allowed (everything else must match).
declare -A port=([dummy-service]=8000)
declare -A extra_bins=([dummy-service]="debug-producer")
default_port=8080

semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'

errors=()
fail() { errors+=("$1"); }

services=()
if [[ -d services ]]; then
  for d in services/*/; do
    [[ -d "$d" ]] && services+=("$(basename "$d")")
  done
fi
if [[ -f go.work ]]; then
  while read -r s; do
    [[ -n "$s" ]] && services+=("$s")
  done < <(sed -n 's#^[[:space:]]*\(use[[:space:]]\+\)\{0,1\}\./services/\([^[:space:]/)]*\).*#\2#p' go.work)
fi
mapfile -t services < <(printf '%s\n' "${services[@]}" | sort -u | sed '/^$/d')
if [[ ${#services[@]} -eq 0 ]]; then
  echo "check-dockerfiles: no services found under services/" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# mask FILE SERVICE: print FILE with the allowed per-service differences masked.
mask() {
  local file=$1 s=$2 b
  local args=(-e "s/${s}/@SERVICE@/g" -e 's/^EXPOSE .*/EXPOSE @PORT@/')
  for b in ${extra_bins[$s]:-}; do
    args+=(-e "s# \./cmd/${b}##g")
  done
  sed "${args[@]}" "$file"
}

for s in "${services[@]}"; do
  dir="services/$s"
  df="$dir/Dockerfile"
  ci="$dir/.gitlab-ci.yml"

  [[ -d "$dir" ]] || { fail "$s: listed in go.work but $dir does not exist"; continue; }

  if [[ ! -f "$dir/VERSION" ]]; then
    fail "$s: missing $dir/VERSION"
  elif [[ "$(wc -l < "$dir/VERSION")" -gt 1 ]] || ! grep -Eq "$semver" "$dir/VERSION"; then
    fail "$s: $dir/VERSION is not a single semver line: '$(head -c 80 "$dir/VERSION")'"
  fi

  # The Dockerfile copies go.mod and go.sum before the sources (download layer).
  for f in go.mod go.sum; do
    [[ -f "$dir/$f" ]] || fail "$s: missing $dir/$f"
  done
  for b in "$s" ${extra_bins[$s]:-}; do
    [[ -f "$dir/cmd/$b/main.go" ]] || fail "$s: missing $dir/cmd/$b/main.go"
  done

  if [[ ! -f "$ci" ]]; then
    fail "$s: missing $ci"
  else
    grep -Eq "^[[:space:]]+SERVICE:[[:space:]]*\"?${s}\"?[[:space:]]*$" "$ci" \
      || fail "$s: $ci does not set SERVICE: $s"
    mask "$ci" "$s" > "$tmp/$s.ci"
  fi
  if [[ ! -f .gitlab-ci.yml ]] || ! grep -Eq "^[[:space:]]*-[[:space:]]*local:[[:space:]]*['\"]?/?services/${s}/\.gitlab-ci\.yml" .gitlab-ci.yml; then
    fail "$s: root .gitlab-ci.yml does not include $ci"
  fi

  if [[ ! -f "$df" ]]; then
    fail "$s: missing $df"
    continue
  fi
  want_port=${port[$s]:-$default_port}
  grep -q "^COPY services/${s}/go.mod services/${s}/go.sum " "$df" || fail "$s: $df does not copy services/$s/go.mod and go.sum"
  grep -q "^COPY services/${s}/ " "$df"            || fail "$s: $df does not copy services/$s/"
  grep -q "^WORKDIR /src/services/${s}\$" "$df"    || fail "$s: $df does not build in /src/services/$s"
  grep -q " \./cmd/${s}\( \|\$\)" "$df"             || fail "$s: $df does not build ./cmd/$s"
  for b in ${extra_bins[$s]:-}; do
    grep -q " \./cmd/${b}\( \|\$\)" "$df"           || fail "$s: $df does not build ./cmd/$b"
  done
  grep -q "^ENTRYPOINT \[\"/usr/local/bin/${s}\"\]\$" "$df" || fail "$s: $df ENTRYPOINT is not /usr/local/bin/$s"
  grep -q "^EXPOSE ${want_port}\$" "$df"          || fail "$s: $df does not EXPOSE $want_port"
  for other in "${services[@]}"; do
    [[ "$other" == "$s" ]] && continue
    for f in "$df" "$ci"; do
      [[ -f "$f" ]] && grep -qF -- "$other" "$f" && fail "$s: $f mentions another service: $other"
    done
  done
  mask "$df" "$s" > "$tmp/$s.df"
done

# Drift: the masked files must all be identical; the most common form is the
# reference, and every service that differs from it is named with a diff.
check_drift() {
  local ext=$1 what=$2 ref s
  compgen -G "$tmp/*.$ext" > /dev/null || return 0
  ref=$(for f in "$tmp"/*."$ext"; do sha256sum < "$f"; done | sort | uniq -c | sort -rn | awk 'NR==1 {print $2}')
  for f in "$tmp"/*."$ext"; do
    s=$(basename "$f" ".$ext")
    if [[ "$(sha256sum < "$f" | awk '{print $1}')" != "$ref" ]]; then
      local example
      for g in "$tmp"/*."$ext"; do
        if [[ "$(sha256sum < "$g" | awk '{print $1}')" == "$ref" ]]; then example=$g; break; fi
      done
      fail "$s: $what has drifted from the others ($(basename "$example" ".$ext")):
$(diff -u --label "$(basename "$example" ".$ext")" --label "$s" "$example" "$f" | sed 's/^/    /')"
    fi
  done
}
check_drift df "services/<name>/Dockerfile"
check_drift ci "services/<name>/.gitlab-ci.yml"

if [[ ${#errors[@]} -gt 0 ]]; then
  printf 'check-dockerfiles: FAIL\n' >&2
  printf '  - %s\n' "${errors[@]}" >&2
  exit 1
fi
printf 'check-dockerfiles: OK (%d services: %s)\n' "${#services[@]}" "${services[*]}"
