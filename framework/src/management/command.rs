use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use super::args::{Argument, ParsedArgs, parse};
use crate::Project;
use crate::conf::Settings;

/// A management command.
pub trait Command: Send + Sync + 'static {
    /// The name typed on the command line.
    fn name(&self) -> &'static str;
    /// One line saying what it does.
    fn help(&self) -> &'static str;
    /// The arguments it accepts.
    fn arguments(&self) -> Vec<Argument> {
        Vec::new()
    }
    /// Runs the command.
    ///
    /// # Errors
    ///
    /// A [`CommandError`] printed on stderr; the process exits with its code.
    fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError>;
}

/// Why a command failed; printed as `error: <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// What went wrong, naming the problem.
    pub message: String,
    /// The process exit code (1 for failures, 2 for usage errors).
    pub code: u8,
}

impl CommandError {
    /// A failure with exit code 1.
    pub fn new(message: impl Into<String>) -> Self {
        CommandError { message: message.into(), code: 1 }
    }

    /// A usage error with exit code 2.
    pub fn usage(message: impl Into<String>) -> Self {
        CommandError { message: message.into(), code: 2 }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CommandError {}

impl From<crate::Error> for CommandError {
    fn from(error: crate::Error) -> Self {
        CommandError::new(error.to_string())
    }
}

impl From<std::io::Error> for CommandError {
    fn from(error: std::io::Error) -> Self {
        CommandError::new(error.to_string())
    }
}

/// What a running command can use: the project, its parsed arguments and its output streams.
pub struct CommandContext<'a> {
    project: &'a Project,
    args: ParsedArgs,
    /// Standard output (captured by `call_command`).
    pub stdout: &'a mut dyn Write,
    /// Standard error (captured by `call_command`).
    pub stderr: &'a mut dyn Write,
    input: Input,
}

/// Where prompts are answered from.
#[derive(Debug)]
pub(crate) enum Input {
    /// The process's standard input (a person at a terminal, or nobody).
    Terminal,
    /// Answers given by [`Project::call_command_with_input`], in order.
    Scripted(std::collections::VecDeque<String>),
    /// Nobody to ask (`Project::call_command`).
    Closed,
}

impl fmt::Debug for CommandContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandContext").field("args", &self.args).finish_non_exhaustive()
    }
}

impl CommandContext<'_> {
    /// The project.
    pub fn project(&self) -> &Project {
        self.project
    }

    /// The settings.
    ///
    /// # Errors
    ///
    /// The settings file's error, naming the file and key.
    pub fn settings(&self) -> Result<&Settings, CommandError> {
        self.project.settings().map_err(|e| CommandError::new(e.to_string()))
    }

    /// The project's database, as views have `req.db()`: a pool sized by the settings; the
    /// SQLite file is not created (`migrate` does that).
    ///
    /// ```
    /// # use manouche::management::{Command, CommandContext, CommandError};
    /// #[derive(Debug)]
    /// struct Ping;
    /// impl Command for Ping {
    ///     fn name(&self) -> &'static str { "ping" }
    ///     fn help(&self) -> &'static str { "Checks the database answers." }
    ///     fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ///         let db = ctx.db()?;
    ///         db.run_sync(|conn| Ok(diesel::connection::SimpleConnection::batch_execute(conn, "SELECT 1")?))
    ///             .map_err(|e| CommandError::new(format!("the database does not answer: {e}")))?;
    ///         ctx.write_line("pong")
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// The settings file's error.
    pub fn db(&self) -> Result<crate::db::Database, CommandError> {
        let settings = self.settings()?;
        Ok(crate::db::Database::connect(&settings.database_url, crate::db::PoolOptions::from_settings(settings)))
    }

    /// A positional or option value.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args.get(name)
    }

    /// Whether a flag was given.
    pub fn flag(&self, name: &str) -> bool {
        self.args.flag(name)
    }

    /// The values of the command's [`Argument::many`] argument.
    pub fn many(&self) -> &[String] {
        self.args.many()
    }

    /// Writes a line to stdout.
    ///
    /// # Errors
    ///
    /// When stdout is closed.
    pub fn write_line(&mut self, line: &str) -> Result<(), CommandError> {
        writeln!(self.stdout, "{line}").map_err(CommandError::from)
    }

    /// Writes a line to stderr.
    ///
    /// # Errors
    ///
    /// When stderr is closed.
    pub fn write_error(&mut self, line: &str) -> Result<(), CommandError> {
        writeln!(self.stderr, "{line}").map_err(CommandError::from)
    }

    /// Whether someone can answer prompts: standard input is a terminal, or the command was
    /// called with scripted answers.
    pub fn interactive(&self) -> bool {
        match &self.input {
            Input::Terminal => std::io::IsTerminal::is_terminal(&std::io::stdin()),
            Input::Scripted(_) => true,
            Input::Closed => false,
        }
    }

    /// Asks `question` and returns the answer line (without its line break).
    ///
    /// # Errors
    ///
    /// When input ends (the person pressed Ctrl-D, or the script ran out): the command stops.
    pub fn prompt(&mut self, question: &str) -> Result<String, CommandError> {
        write!(self.stdout, "{question}")?;
        self.stdout.flush()?;
        let answer = match &mut self.input {
            Input::Scripted(answers) => answers.pop_front(),
            Input::Closed => None,
            Input::Terminal => {
                let mut line = String::new();
                let read = std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut line)?;
                (read > 0).then(|| line.trim_end_matches(['\r', '\n']).to_owned())
            }
        };
        if matches!(self.input, Input::Scripted(_)) {
            writeln!(self.stdout)?;
        }
        answer.ok_or_else(|| CommandError::new("no answer: operation cancelled"))
    }

    /// Asks for a password without echoing it on a terminal.
    ///
    /// # Errors
    ///
    /// As [`CommandContext::prompt`].
    pub fn prompt_password(&mut self, question: &str) -> Result<String, CommandError> {
        match &mut self.input {
            Input::Terminal => {
                self.stdout.flush()?;
                rpassword::prompt_password(question).map_err(|e| CommandError::new(format!("no password read: {e}")))
            }
            Input::Scripted(_) | Input::Closed => self.prompt(question),
        }
    }
}

/// The result of [`Project::call_command`].
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// The exit code.
    pub code: u8,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl CommandOutput {
    /// Whether the command succeeded.
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

pub(crate) fn execute(project: &Project, args: &[String]) -> ExitCode {
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    ExitCode::from(run(project, args, &mut stdout, &mut stderr, Input::Terminal))
}

pub(crate) fn call(project: &Project, args: &[String], input: Input) -> CommandOutput {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let code = run(project, args, &mut stdout, &mut stderr, input);
    CommandOutput {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn run(project: &Project, args: &[String], stdout: &mut dyn Write, stderr: &mut dyn Write, input: Input) -> u8 {
    let commands = project.commands();
    let (name, rest) = match args.split_first() {
        Some((name, rest)) => (name.as_str(), rest),
        None => (project.default_command_name(), &[][..]),
    };
    if matches!(name, "help" | "--help" | "-h") {
        match rest.first() {
            Some(topic) => match commands.iter().find(|c| c.name() == topic) {
                Some(command) => {
                    let _ = write!(stdout, "{}", usage(command.as_ref()));
                    return 0;
                }
                None => {
                    let _ = writeln!(stderr, "error: {}", unknown_command(topic, &commands));
                    return 2;
                }
            },
            None => {
                let _ = write!(stdout, "{}", overview(&commands));
                return 0;
            }
        }
    }
    let Some(command) = commands.iter().find(|c| c.name() == name) else {
        let _ = writeln!(stderr, "error: {}", unknown_command(name, &commands));
        return 2;
    };
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        let _ = write!(stdout, "{}", usage(command.as_ref()));
        return 0;
    }
    let spec = command.arguments();
    let parsed = match parse(&spec, rest) {
        Ok(parsed) => parsed,
        Err(message) => {
            let _ = writeln!(stderr, "error: {name}: {message}\n\n{}", usage(command.as_ref()));
            return 2;
        }
    };
    let mut ctx = CommandContext { project, args: parsed, stdout, stderr, input };
    match command.run(&mut ctx) {
        Ok(()) => 0,
        Err(error) => {
            let _ = writeln!(ctx.stderr, "error: {}", error.message);
            error.code.max(1)
        }
    }
}

fn unknown_command(name: &str, commands: &[std::sync::Arc<dyn Command>]) -> String {
    let suggestion = super::args::closest(name, commands.iter().map(|c| c.name()))
        .map(|close| format!(" (did you mean `{close}`?)"))
        .unwrap_or_default();
    format!("unknown command `{name}`{suggestion}; run `help` to list the commands")
}

fn usage(command: &dyn Command) -> String {
    let arguments = command.arguments();
    let mut out = format!("usage: {}", command.name());
    for argument in &arguments {
        out.push(' ');
        out.push_str(&argument.usage());
    }
    out.push_str(&format!("\n\n{}\n", command.help()));
    if !arguments.is_empty() {
        out.push_str("\narguments:\n");
        for argument in &arguments {
            out.push_str(&format!("  {:<24} {}\n", argument.usage(), argument.help));
        }
    }
    out
}

fn overview(commands: &[std::sync::Arc<dyn Command>]) -> String {
    let mut out = String::from("usage: <command> [arguments]; `help <command>` for details\n\ncommands:\n");
    for command in commands {
        out.push_str(&format!("  {:<16} {}\n", command.name(), command.help()));
    }
    out
}
