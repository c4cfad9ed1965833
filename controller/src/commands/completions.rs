//! `maestro completions SHELL`: a completion script that asks
//! `maestro complete` (MaestroNG's completion helper) for the words at the
//! cursor, so every shell completes the same things: commands, flags, and
//! the services, instances and ships of the environment file the line
//! names with `-f` (else `$MAESTRO_FILE` or `maestro.yaml`), read when the
//! Tab key is pressed.

use crate::cli::Shell;

/// bash: `COMP_WORDS` up to the cursor, the word at the cursor last (empty
/// after a space). Nothing offered: the shell's own file completion
/// (`-o default`), which is what `-f` wants.
const BASH: &str = r#"# maestro completion for bash.
# Load it with: source <(maestro completions bash)
# or install it: maestro completions bash > /usr/share/bash-completion/completions/maestro
_maestro() {
    local cur=${COMP_WORDS[COMP_CWORD]} IFS=$' \t\n'
    local candidates
    candidates=$(command maestro complete "${COMP_WORDS[@]:0:COMP_CWORD}" "$cur" 2>/dev/null) || return
    COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o default -F _maestro maestro
"#;

/// zsh: `words` up to `CURRENT`; works as a file in `$fpath` (autoloaded
/// as `_maestro`) and when sourced.
const ZSH: &str = r#"#compdef maestro
# maestro completion for zsh.
# Load it with: source <(maestro completions zsh)   (after compinit)
# or install it as _maestro in a folder of $fpath.
_maestro() {
    local -a candidates
    candidates=(${="$(command maestro complete "${(@)words[1,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)"})
    if (( ${#candidates} )); then
        compadd -- "${candidates[@]}"
    else
        _files
    fi
}
if [[ "${funcstack[1]}" == _maestro ]]; then
    _maestro "$@"
else
    compdef _maestro maestro
fi
"#;

/// fish: the tokens before the cursor and the one at it, as one line (an
/// empty last token survives as a trailing space).
const FISH: &str = r#"# maestro completion for fish.
# Load it with: maestro completions fish | source
# or install it: maestro completions fish > ~/.config/fish/completions/maestro.fish
function __maestro_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    command maestro complete "$tokens $current" 2>/dev/null | string split ' ' | string match -v ''
end
complete -c maestro -f -a '(__maestro_complete)'
complete -c maestro -s f -l file -r -F
"#;

/// elvish: the arg-completer gets the words, the current one last.
const ELVISH: &str = r#"# maestro completion for elvish.
# Load it with: eval (maestro completions elvish | slurp)
use str
set edit:completion:arg-completer[maestro] = {|@words|
    var line = (str:join ' ' $words)
    for c [(str:split ' ' (str:trim-space (maestro complete $line | slurp)))] {
        if (!=s $c '') { put $c }
    }
}
"#;

/// PowerShell: the command's words up to the cursor as one line (empty
/// arguments would be dropped on their way to a native command).
const POWERSHELL: &str = r#"# maestro completion for PowerShell.
# Load it with: maestro completions powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName maestro -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements |
        Where-Object { $_.Extent.StartOffset -lt $cursorPosition } |
        ForEach-Object { $_.ToString() })
    $line = $words -join ' '
    if ($wordToComplete -eq '') { $line += ' ' }
    (& maestro complete $line) -split ' ' | Where-Object { $_ } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
"#;

pub fn script(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
        Shell::Elvish => ELVISH,
        Shell::Powershell => POWERSHELL,
    }
}

pub fn run(shell: Shell) -> super::CommandResult {
    super::print_stdout(script(shell))?;
    Ok(crate::exit::ExitStatus::Success)
}
