# Sourced by the lab's node supervisors (node-supervisor.sh, kube-node.sh): runs each script the
# host dropped into $ctl/exec (X.sh -> X.out, X.rc), one at a time; the .rc appears last.
run_execs() {
  for f in "$ctl"/exec/*.sh; do
    [ -e "$f" ] || continue
    base="${f%.sh}"
    sh "$f" > "$base.out" 2>&1
    echo $? > "$base.rc.tmp"; mv "$base.rc.tmp" "$base.rc"
    rm -f "$f"
  done
}
