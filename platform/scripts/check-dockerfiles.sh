#!/usr/bin/env bash
# Checks that every service under services/ can be built from the one
# services/Dockerfile:
#   - services/<name>/VERSION (one semver line), go.mod, go.sum and
#     cmd/<name>/main.go exist (the image's entrypoint is the command named
#     after the service);
#   - every line of services/image-args names a service and sets only build
#     arguments that services/Dockerfile declares.
# And for EVERY Dockerfile in the repository (services/, platform/,
# .devcontainer/, any other):
#   - every FROM is pinned: a tag (or digest) that is not latest or another
#     floating tag, ARG-substituted references resolved from the ARG defaults;
#     references to earlier stages and scratch are fine;
#   - the final stage sets a non-root USER: numeric (uid or uid:gid) or
#     nonroot (a named non-root user only where user_exempt gives the reason);
#   - no secret is baked in: no ENV/ARG whose name contains PASSWORD, PASSWD,
#     SECRET, TOKEN or KEY with a literal value (nor an ENV copying a build
#     argument into such a name), no value holding such a NAME=literal pair,
#     no COPY/ADD of key, .env or credential files;
#   - every RUN that runs go build/go install builds static and reproducible
#     binaries: CGO_ENABLED=0 (stage ENV or inline) and -trimpath (flag or
#     GOFLAGS), and no CGO_ENABLED=1 in that stage.
# Services are the directories under services/ plus the ./services/* entries
# of go.work. Exits non-zero and names every offender.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

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

for s in "${services[@]}"; do
  dir="services/$s"
  [[ -d "$dir" ]] || { fail "$s: listed in go.work but $dir does not exist"; continue; }
  if [[ ! -f "$dir/VERSION" ]]; then
    fail "$s: missing $dir/VERSION"
  elif [[ "$(wc -l < "$dir/VERSION")" -gt 1 ]] || ! grep -Eq "$semver" "$dir/VERSION"; then
    fail "$s: $dir/VERSION is not a single semver line: '$(head -c 80 "$dir/VERSION")'"
  fi
  # services/Dockerfile copies go.mod and go.sum before the sources (download layer).
  for f in go.mod go.sum "cmd/$s/main.go"; do
    [[ -f "$dir/$f" ]] || fail "$s: missing $dir/$f"
  done
done

# services/image-args: <service> NAME=value..., each NAME an ARG of services/Dockerfile.
if [[ ! -f services/Dockerfile ]]; then
  fail "services/Dockerfile: missing (every service image is built from it)"
elif [[ -f services/image-args ]]; then
  mapfile -t declared < <(sed -n 's/^[[:space:]]*ARG[[:space:]]\+\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' services/Dockerfile | sort -u)
  while read -r s pairs; do
    [[ -z "$s" || "$s" == \#* ]] && continue
    [[ -d "services/$s" ]] || fail "services/image-args: $s is not a directory under services/"
    [[ -n "$pairs" ]] || fail "services/image-args: $s sets no build argument"
    for p in $pairs; do
      name=${p%%=*}
      if [[ "$p" != *=* || ! "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        fail "services/image-args: $s: '$p' is not NAME=value"
      elif [[ "$name" == SERVICE || "$name" == VERSION ]]; then
        fail "services/image-args: $s: $name is set by the build itself"
      elif ! printf '%s\n' "${declared[@]}" | grep -qx -- "$name"; then
        fail "services/image-args: $s: services/Dockerfile declares no ARG $name"
      fi
    done
  done < services/image-args
fi

# ---------------------------------------------------------------------------
# Every Dockerfile: pinned bases, non-root final USER, no secrets, static Go.

# Files whose final USER may be a named (non-numeric) non-root user, and why.
declare -A user_exempt=(
  [.devcontainer/Dockerfile]="VS Code's remoteUser is a named login user (vscode, uid 1000) with sudo; the image never runs in a cluster"
)
floating_tags='^(latest|stable|edge|nightly|rolling|main|master|current|dev|debug)$'
secret_name='(PASSWORD|PASSWD|SECRET|TOKEN|KEY)'

# instructions FILE: one logical instruction per line (continuations joined,
# comment and blank lines dropped, the keyword upper-cased). Heredocs are not
# supported (and not used).
instructions() {
  awk '
    /^[[:space:]]*#/ { next }
    {
      line = $0
      if (line ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, "", line); cont = cont line " "; next }
      cont = cont line
      if (cont !~ /^[[:space:]]*$/) {
        sub(/^[[:space:]]+/, "", cont)
        kw = cont; sub(/[[:space:]].*/, "", kw)
        print toupper(kw) substr(cont, length(kw) + 1)
      }
      cont = ""
    }
    END { if (cont !~ /^[[:space:]]*$/) print cont }
  ' "$1"
}

# expand WORD: substitute $NAME, ${NAME}, ${NAME:-default} from the ARG
# defaults seen so far (argdefs); what cannot be resolved is left as is.
declare -A argdefs=()
expand() {
  local w=$1 name def out=""
  while [[ "$w" =~ ^([^\$]*)\$(\{([A-Za-z_][A-Za-z0-9_]*)(:?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))(.*)$ ]]; do
    out+="${BASH_REMATCH[1]}"
    name="${BASH_REMATCH[3]:-${BASH_REMATCH[6]}}"
    def="${BASH_REMATCH[5]}"
    if [[ -n "${argdefs[$name]+x}" && -n "${argdefs[$name]}" ]]; then
      out+="${argdefs[$name]}"
    elif [[ -n "${BASH_REMATCH[4]}" ]]; then
      out+="$def"
    else
      out+="@UNRESOLVED:${name}@"
    fi
    w="${BASH_REMATCH[7]}"
  done
  printf '%s' "$out$w"
}

# pairs TEXT: the NAME=value words of an ARG/ENV instruction, one a line
# (ENV NAME value, the legacy form, becomes NAME=value). Quotes are dropped.
pairs() {
  local text=$1
  if [[ "$text" =~ ^([A-Za-z_][A-Za-z0-9_]*)[[:space:]]+([^=]*)$ ]]; then
    printf '%s=%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    return
  fi
  local re='^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)(=("([^"]*)"|'"'"'([^'"'"']*)'"'"'|([^[:space:]]*)))?(.*)$'
  while [[ -n "${text//[[:space:]]/}" && "$text" =~ $re ]]; do
    if [[ -n "${BASH_REMATCH[2]}" ]]; then
      printf '%s=%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[4]}${BASH_REMATCH[5]}${BASH_REMATCH[6]}"
    else
      printf '%s\n' "${BASH_REMATCH[1]}"
    fi
    text=${BASH_REMATCH[7]}
  done
}

check_dockerfile() {
  local df=$1 ins kw rest from ref stage_name image tag user="" stage=0 cgo0=0 cgo1=0 gotrim=0
  local -A stages=()
  argdefs=()
  while IFS= read -r ins; do
    kw=${ins%%[[:space:]]*}
    rest=${ins#"$kw"}
    rest=${rest#"${rest%%[![:space:]]*}"}
    case "$kw" in
      FROM)
        stage=$((stage + 1)); user=""; cgo0=0; cgo1=0; gotrim=0
        from=$rest
        while [[ "$from" == --* ]]; do from=${from#*[[:space:]]}; from=${from#"${from%%[![:space:]]*}"}; done
        ref=${from%%[[:space:]]*}
        stage_name=""
        if [[ "$from" =~ [[:space:]][Aa][Ss][[:space:]]+([^[:space:]]+) ]]; then stage_name=${BASH_REMATCH[1]}; fi
        image=$(expand "$ref")
        if [[ -n "${stages[$image]+x}" || "$image" == scratch ]]; then
          :
        elif [[ "$image" == *@UNRESOLVED:* ]]; then
          tag=${image#*@UNRESOLVED:}
          fail "$df: FROM $ref: ${tag%%@*} has no ARG default, so the base is not pinned"
        elif [[ "$image" == *@sha256:* ]]; then
          :
        else
          tag=""
          [[ "${image##*/}" == *:* ]] && tag=${image##*:}
          if [[ -z "$tag" ]]; then
            fail "$df: FROM $ref${image:+ ($image)} has no tag: pin a version"
          elif [[ "$tag" =~ $floating_tags ]]; then
            fail "$df: FROM $ref ($image) uses the floating tag :$tag: pin a version"
          fi
        fi
        [[ -n "$stage_name" ]] && stages[$stage_name]=1
        ;;
      ARG | ENV)
        local p name val
        while IFS= read -r p; do
          [[ -z "$p" ]] && continue
          name=${p%%=*}
          val=""
          [[ "$p" == *=* ]] && val=${p#*=}
          if [[ "$kw" == ARG && "$p" == *=* ]]; then argdefs[$name]=$val; fi
          if [[ "$kw" == ENV ]]; then
            [[ "$name" == CGO_ENABLED && "$val" == 0 ]] && cgo0=1
            [[ "$name" == CGO_ENABLED && "$val" == 1 ]] && cgo1=1
            [[ "$name" == GOFLAGS && "$val" == *-trimpath* ]] && gotrim=1
          fi
          if [[ "${name^^}" =~ $secret_name && -n "$val" ]]; then
            if [[ "$val" != \$* ]]; then
              fail "$df: $kw $name has a literal value: secrets must not be baked into images (pass them at run time)"
            elif [[ "$kw" == ENV ]]; then
              fail "$df: ENV $name=$val stores a build argument in the image's environment: pass secrets at run time or use RUN --mount=type=secret"
            fi
          fi
          if [[ "${val^^}" =~ [A-Z0-9_]*${secret_name}[A-Z0-9_]*=[^\$[:space:]] ]]; then
            fail "$df: $kw $name holds a literal ${BASH_REMATCH[0]}...: secrets must not be baked into images"
          fi
        done < <(pairs "$rest")
        ;;
      USER)
        user=$(expand "${rest%%[[:space:]]*}")
        ;;
      COPY | ADD)
        if [[ " $rest " =~ [[:space:]/](id_(rsa|dsa|ecdsa|ed25519)|[^[:space:]]*\.(pem|key|p12|pfx)|\.env|\.netrc|\.npmrc|\.pypirc|\.git-credentials|\.dockercfg|config\.json)[[:space:]] ]]; then
          fail "$df: $kw copies ${BASH_REMATCH[1]}: key and credential files must not be baked into images"
        fi
        ;;
      RUN)
        if [[ "$rest" =~ (^|[[:space:]\;\&\|])go[[:space:]]+(build|install)([[:space:]]|$) ]]; then
          if [[ "$rest" == *CGO_ENABLED=1* ]] || { ((cgo1)) && [[ "$rest" != *CGO_ENABLED=0* ]]; }; then
            fail "$df: a Go build runs with CGO_ENABLED=1: images ship static binaries (CGO_ENABLED=0)"
          elif ! ((cgo0)) && [[ "$rest" != *CGO_ENABLED=0* ]]; then
            fail "$df: a Go build runs without CGO_ENABLED=0 (stage ENV or inline): images ship static binaries"
          fi
          if ! ((gotrim)) && [[ "$rest" != *-trimpath* ]]; then
            fail "$df: a Go build runs without -trimpath (flag or GOFLAGS): builds must be reproducible"
          fi
        fi
        ;;
    esac
  done < <(instructions "$df")

  if ((stage == 0)); then
    fail "$df: no FROM instruction"
    return
  fi
  if [[ -z "$user" ]]; then
    fail "$df: the final stage sets no USER: the image would run as its base image's user (root for most)"
  elif [[ "$user" =~ ^(root|0)(:|$) || "$user" =~ :(root|0)$ ]]; then
    fail "$df: the final stage runs as root (USER $user)"
  elif [[ "$user" == *@UNRESOLVED:* ]]; then
    fail "$df: the final USER $user cannot be resolved from ARG defaults"
  elif ! [[ "$user" =~ ^[1-9][0-9]*(:[1-9][0-9]*)?$ || "$user" == nonroot || "$user" == nonroot:nonroot ]]; then
    if [[ -z "${user_exempt[$df]:-}" ]]; then
      fail "$df: the final USER $user is not numeric (uid or uid:gid) or nonroot: Kubernetes runAsNonRoot cannot verify a name"
    fi
  fi
}

mapfile -t dockerfiles < <(find . \( -name .git -o -name .cache -o -name node_modules -o -name bin -o -name data \) -prune \
  -o -type f \( -name Dockerfile -o -name '*.Dockerfile' -o -name 'Dockerfile.*' \) -print | sed 's#^\./##' | sort)
for df in "${dockerfiles[@]}"; do
  check_dockerfile "$df"
done

# The platform tools image: platform/VERSION is semver.
if [[ -f platform/Dockerfile ]]; then
  if [[ ! -f platform/VERSION ]]; then
    fail "platform: missing platform/VERSION"
  elif [[ "$(wc -l < platform/VERSION)" -gt 1 ]] || ! grep -Eq "$semver" platform/VERSION; then
    fail "platform: platform/VERSION is not a single semver line: '$(head -c 80 platform/VERSION)'"
  fi
fi

if [[ ${#errors[@]} -gt 0 ]]; then
  printf 'check-dockerfiles: FAIL\n' >&2
  printf '  - %s\n' "${errors[@]}" >&2
  exit 1
fi
printf 'check-dockerfiles: OK (%d services: %s; %d Dockerfiles pinned, non-root, secret-free, static: %s)\n' \
  "${#services[@]}" "${services[*]}" "${#dockerfiles[@]}" "${dockerfiles[*]}"
