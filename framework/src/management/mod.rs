//! The management CLI: `cargo run -- <command>`, Django's `manage.py`.
//!
//! Built-in commands: `runserver`, `check`, `routes`, `collectstatic`, `makemigrations`, `migrate`,
//! `showmigrations`, `sqlmigrate` and `help`. An app adds its
//! own by implementing [`Command`] and registering it with [`crate::App::command`]:
//!
//! ```
//! use manouche::management::{Argument, Command, CommandContext, CommandError};
//!
//! #[derive(Debug)]
//! struct Greet;
//!
//! impl Command for Greet {
//!     fn name(&self) -> &'static str { "greet" }
//!     fn help(&self) -> &'static str { "Greets someone." }
//!     fn arguments(&self) -> Vec<Argument> {
//!         vec![Argument::positional("name", "who to greet"), Argument::flag("shout", "use capitals")]
//!     }
//!     fn run(&self, ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
//!         let name = ctx.arg("name").unwrap_or("world").to_owned();
//!         let text = if ctx.flag("shout") { name.to_uppercase() } else { name };
//!         ctx.write_line(&format!("hello, {text}"))
//!     }
//! }
//!
//! let project = manouche::Project::new(manouche::conf::Settings::for_tests())
//!     .app(manouche::App::new("greeter").command(Greet));
//! let out = project.call_command(["greet", "ada", "--shout"]);
//! assert_eq!(out.stdout, "hello, ADA\n");
//! assert_eq!(project.call_command(["greet", "--loud"]).code, 2);
//! ```

mod args;
mod builtin;
mod command;
mod fixtures;
mod migrate;
mod shutdown;

pub use self::args::{Argument, ParsedArgs};
pub(crate) use self::builtin::builtin_commands;
pub use self::command::{Command, CommandContext, CommandError, CommandOutput};
pub(crate) use self::command::{Input, call, execute};
