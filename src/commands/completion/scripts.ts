/**
 * Shell scripts that complete the standalone `kubectl-singlestore` command by calling its hidden
 * `__complete` command (cobra's protocol). Under kubectl, the `kubectl_complete-singlestore` helper on
 * PATH does the same job and no script is needed.
 */
export const shells = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof shells)[number];

export function completionScript(shell: Shell, program: string): string {
  const fn = program.replace(/[^A-Za-z0-9]/g, '_');
  return templates[shell].replaceAll('{{program}}', program).replaceAll('{{fn}}', fn);
}

const templates: Record<Shell, string> = {
  bash: `# bash completion for {{program}}; load with: source <({{program}} completion bash)
__{{fn}}_complete() {
    local cur="\${COMP_WORDS[COMP_CWORD]}" out directive
    out=$("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:$COMP_CWORD}" 2>/dev/null) || return
    directive=\${out##*:}
    out=$(printf '%s\\n' "$out" | sed '$d' | cut -f1)
    (( directive & 1 )) && return
    (( directive & 4 )) && compopt +o default 2>/dev/null
    (( directive & 2 )) && compopt -o nospace 2>/dev/null
    local IFS=$'\\n'
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
}
complete -o default -F __{{fn}}_complete {{program}}
`,
  zsh: `#compdef {{program}}
# zsh completion for {{program}}; load with: source <({{program}} completion zsh)
__{{fn}}_complete() {
    local out directive line value description
    local -a lines described
    out=$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    lines=("\${(@f)out}")
    directive=\${lines[-1]#:}
    (( directive & 1 )) && return 1
    for line in "\${(@)lines[1,-2]}"; do
        value=\${line%%$'\\t'*}
        description=\${line#*$'\\t'}
        [[ $description == "$line" ]] && description=""
        described+=("\${value//:/\\\\:}\${description:+:$description}")
    done
    if (( \${#described} )); then
        _describe -t values 'values' described
    elif (( ! (directive & 4) )); then
        _files
    fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then __{{fn}}_complete "$@"; else compdef __{{fn}}_complete {{program}}; fi
`,
  fish: `# fish completion for {{program}}; load with: {{program}} completion fish | source
function __{{fn}}_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] 2>/dev/null)
    test (count $out) -gt 0; or return
    for line in $out[1..-2]
        echo $line
    end
end
complete -c {{program}} -f -a '(__{{fn}}_complete)'
`,
  powershell: `# PowerShell completion for {{program}}; load with: {{program}} completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName '{{program}}' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
    if ($wordToComplete -eq '') { $words += '""' }
    $out = @(& $commandAst.CommandElements[0].ToString() __complete @words 2>$null)
    if ($out.Count -eq 0) { return }
    $out | Select-Object -First ($out.Count - 1) | ForEach-Object {
        $value, $description = $_ -split "\`t", 2
        if (-not $description) { $description = $value }
        [System.Management.Automation.CompletionResult]::new($value, $value, 'ParameterValue', $description)
    }
}
`,
};
