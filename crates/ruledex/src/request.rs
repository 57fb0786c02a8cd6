//! The request vocabulary (`ruledex_app::request`) as command-line arguments: each question's
//! parameters become clap arguments made from their descriptions (a switch, a repeatable option
//! that also takes commas, a number with its default and range, the subject as the positional
//! argument), and what was given is checked by the same code as a query string or MCP
//! arguments, with the same defaults and the same messages (naming `--flag`s).

use std::marker::PhantomData;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use ruledex_app::request::{Arguments, Kind, Operation, Param, RequestError, Spelling, Unknown};

/// A question a command asks.
pub trait Question {
    const OPERATION: &'static Operation;
}

/// What was given on the command line for question `Q`, not yet checked.
#[derive(Debug, Clone)]
pub struct Given<Q> {
    pairs: Vec<(String, String)>,
    question: PhantomData<Q>,
}

impl<Q: Question> Given<Q> {
    /// The arguments, checked against the question's description.
    pub fn arguments(&self) -> Result<Arguments, RequestError> {
        Arguments::check(Q::OPERATION, self.pairs.clone(), Spelling::Flag, Unknown::Refuse)
    }
}

impl<Q: Question> FromArgMatches for Given<Q> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut pairs = Vec::new();
        for param in Q::OPERATION.all() {
            let id = param.flag;
            if is_subject::<Q>(param) {
                let words: Vec<&String> = matches.get_many::<String>(id).into_iter().flatten().collect();
                if !words.is_empty() {
                    let joined: Vec<&str> = words.iter().map(|w| w.as_str()).collect();
                    pairs.push((id.to_string(), joined.join(" ")));
                }
            } else if matches!(param.kind, Kind::Flag) {
                if matches.get_flag(id) {
                    pairs.push((id.to_string(), "true".to_string()));
                }
            } else {
                pairs.extend(matches.get_many::<String>(id).into_iter().flatten().map(|v| (id.to_string(), v.clone())));
            }
        }
        Ok(Given { pairs, question: PhantomData })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Given::from_arg_matches(matches)?;
        Ok(())
    }
}

impl<Q: Question> Args for Given<Q> {
    fn augment_args(command: Command) -> Command {
        Q::OPERATION.all().fold(command, |command, param| command.arg(argument(param, is_subject::<Q>(param))))
    }

    fn augment_args_for_update(command: Command) -> Command {
        Given::<Q>::augment_args(command)
    }
}

fn is_subject<Q: Question>(param: &Param) -> bool {
    Q::OPERATION.subject.is_some_and(|subject| std::ptr::eq(subject, param))
}

/// The clap argument of a parameter: the subject positional (its words joined), a switch, or
/// an option taking values (repeatable for lists). Values are not checked by clap: the
/// vocabulary checks them, for every front end alike.
fn argument(param: &'static Param, subject: bool) -> Arg {
    let arg = Arg::new(param.flag).help(help(param));
    if subject {
        return arg.value_name(param.flag.to_uppercase()).required(true).num_args(1..).action(ArgAction::Append);
    }
    let arg = arg.long(param.flag);
    match param.kind {
        Kind::Flag => arg.action(ArgAction::SetTrue),
        Kind::List { .. } => arg.value_name("NAME").action(ArgAction::Append),
        Kind::Number { .. } => arg.value_name("N").action(ArgAction::Set),
        Kind::Text | Kind::Choice { .. } => arg.value_name(param.flag.to_uppercase()).action(ArgAction::Set),
    }
}

/// The parameter's help, with its values, range and default.
fn help(param: &Param) -> String {
    let mut help = param.help.trim_end_matches('.').to_string();
    match param.kind {
        Kind::List { commas: true, .. } => help.push_str(" (repeat it, or separate names with commas)"),
        Kind::Number { min, max, .. } => help.push_str(&format!(" ({min} to {max})")),
        _ => {}
    }
    if let Some(values) = param.values() {
        help.push_str(&format!(" [values: {}]", values.join(", ")));
    }
    if let Some(default) = param.default_text() {
        help.push_str(&format!(" [default: {default}]"));
    }
    help
}

/// The questions the commands ask.
pub mod questions {
    use ruledex_app::request::Operation;
    use ruledex_app::request::vocabulary;

    use super::Question;

    macro_rules! question {
        ($name:ident = $operation:path) => {
            #[derive(Debug, Clone)]
            pub struct $name;

            impl Question for $name {
                const OPERATION: &'static Operation = &$operation;
            }
        };
    }

    question!(Technique = vocabulary::TECHNIQUE_LISTING);
    question!(Search = vocabulary::SEARCH);
    question!(Show = vocabulary::SHOW);
    question!(StackCoverage = vocabulary::STACK_COVERAGE_LAYER);
    question!(AttackObject = vocabulary::ATTACK_OBJECT);
    question!(Changes = vocabulary::CHANGES);
    question!(Export = vocabulary::EXPORT);
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::questions::Technique;
    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        given: Given<Technique>,
    }

    #[test]
    fn a_question_becomes_arguments_checked_like_any_front_ends() {
        Cli::command_for_test().debug_assert();
        let cli = Cli::parse_from(["t", "Proxy:", "Multi-hop", "Proxy", "--language", "spl,eql", "--community"]);
        let args = cli.given.arguments().unwrap();
        let request = ruledex_app::request::TechniqueRequest::from_arguments(&args).unwrap();
        assert_eq!(request.technique, "Proxy: Multi-hop Proxy", "the words of the subject");
        assert_eq!(request.filters.asked.languages.len(), 2);
        assert!(request.filters.community);
        let cli = Cli::parse_from(["t", "T1090", "--limit", "0"]);
        let error = cli.given.arguments().unwrap_err().spelled(Spelling::Flag);
        assert_eq!(error, "--limit: give a whole number from 1 to 100, not \"0\"");
        let cli = Cli::parse_from(["t", "T1090", "--language", "cobol"]);
        assert!(cli.given.arguments().unwrap_err().spelled(Spelling::Flag).starts_with("--language: \"cobol\""));
    }

    impl Cli {
        fn command_for_test() -> Command {
            <Cli as clap::CommandFactory>::command()
        }
    }
}
