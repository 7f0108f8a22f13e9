//! `her2ex init`, `her2ex site …`, `her2ex user …`: sites and accounts, written through
//! the audited log like everything else.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use trial::admin::NewUser;
use trial::{Actor, Role, Trial};

use crate::DataArgs;

/// Arguments of `her2ex init`.
#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    data: DataArgs,
    /// User name of the first administrator.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// Read the administrator's password from standard input (first line) instead of
    /// asking at the terminal.
    #[arg(long)]
    password_stdin: bool,
}

/// `her2ex site …`
#[derive(Subcommand)]
pub enum SiteCommand {
    /// Add a trial site.
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// Site code used in study ids: 2–4 capital letters (e.g. KS).
        code: String,
        /// Full name of the site.
        name: String,
    },
    /// List the sites.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// `her2ex user …`
#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user account.
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// Sign-in name: 2–32 of a–z, 0–9, '.', '_', '-'.
        username: String,
        /// Role: investigator, research_nurse, nuclear_medicine_reader, pathologist,
        /// monitor, data_manager, statistician, study_director or admin.
        #[arg(long)]
        role: String,
        /// Site code (site roles only).
        #[arg(long)]
        site: Option<String>,
        /// Name shown in the audit trail.
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List user accounts.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Set a new password that the user must change at her next sign-in; her sessions
    /// end.
    ResetPassword {
        #[command(flatten)]
        data: DataArgs,
        /// Whose.
        username: String,
        /// Why, for the audit trail.
        #[arg(long)]
        reason: String,
        /// Read the new password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Deactivate an account: no sign-in, its sessions end.
    Deactivate {
        #[command(flatten)]
        data: DataArgs,
        /// Whose.
        username: String,
        /// Why, for the audit trail.
        #[arg(long)]
        reason: String,
    },
    /// Reactivate a deactivated account.
    Reactivate {
        #[command(flatten)]
        data: DataArgs,
        /// Whose.
        username: String,
        /// Why, for the audit trail.
        #[arg(long)]
        reason: String,
    },
    /// Unlock an account locked after failed passwords.
    Unlock {
        #[command(flatten)]
        data: DataArgs,
        /// Whose.
        username: String,
        /// Why, for the audit trail.
        #[arg(long)]
        reason: String,
    },
    /// Change a user's role (with the site a site role needs); her sessions end.
    Role {
        #[command(flatten)]
        data: DataArgs,
        /// Whose.
        username: String,
        /// The new role id.
        role: String,
        /// Site code (site roles only).
        #[arg(long)]
        site: Option<String>,
        /// Why, for the audit trail.
        #[arg(long)]
        reason: String,
    },
    /// Move a user to another site in the same role; her sessions end.
    Site {
        #[command(flatten)]
        data: DataArgs,
        /// Whose.
        username: String,
        /// The new site code.
        site: String,
        /// Why, for the audit trail.
        #[arg(long)]
        reason: String,
    },
}

/// Reads a password: the first line of standard input, or asked twice at the terminal.
pub fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let second = rpassword::prompt_password("Again: ").context("reading the password")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}

fn parse_role(s: &str) -> anyhow::Result<Role> {
    Role::parse(s).with_context(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.id()).collect();
        format!("unknown role {s:?}; one of: {}", all.join(", "))
    })
}

fn refused(e: trial::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", e.explain())
}

/// `her2ex init`: the data directory, the checkpoint key beside it (see
/// [`DataArgs::key_path`]), the database, the first administrator, and a first signed
/// checkpoint.
pub async fn init(a: InitArgs) -> anyhow::Result<u8> {
    a.data.create_key_if_missing()?;
    let store = a.data.open().await?;
    if store.user(&a.admin).await?.is_some() {
        println!("{} exists already; nothing to do", a.admin);
        return Ok(0);
    }
    let password = read_password(a.password_stdin)?;
    let user = NewUser {
        username: a.admin.clone(),
        display_name: "Administrator".into(),
        role: Role::Admin,
        site: None,
        password,
    };
    Trial::new(store.clone())
        .add_user(&Actor::command_line(), user)
        .await
        .map_err(refused)?;
    if let Some(c) = store.checkpoint_with_own_key().await? {
        println!("first checkpoint signed at seq {}", c.seq);
    }
    println!(
        "initialised {} with administrator {}",
        a.data.data_dir.display(),
        a.admin
    );
    Ok(0)
}

/// `her2ex site …`
pub async fn site(c: SiteCommand) -> anyhow::Result<u8> {
    match c {
        SiteCommand::Add { data, code, name } => {
            let store = data.open().await?;
            Trial::new(store)
                .add_site(&Actor::command_line(), &code, &name)
                .await
                .map_err(refused)?;
            println!("added site {code}: {name}");
        }
        SiteCommand::List { data } => {
            for s in data.open().await?.sites().await? {
                println!("{}\t{}", s.code, s.name);
            }
        }
    }
    Ok(0)
}

/// `her2ex user …`
pub async fn user(c: UserCommand) -> anyhow::Result<u8> {
    match c {
        UserCommand::Add {
            data,
            username,
            role,
            site,
            name,
            password_stdin,
        } => {
            let role = parse_role(&role)?;
            let store = data.open().await?;
            let password = read_password(password_stdin)?;
            let user = NewUser {
                username: username.clone(),
                display_name: name,
                role,
                site,
                password,
            };
            Trial::new(store)
                .add_user(&Actor::command_line(), user)
                .await
                .map_err(refused)?;
            println!("added user {username} ({})", role.id());
        }
        UserCommand::List { data } => {
            for u in data.open().await?.users().await? {
                let site = u.site.unwrap_or_else(|| "all sites".into());
                let active = if u.active { "" } else { " (inactive)" };
                let locked = if u.locked { " (locked)" } else { "" };
                println!(
                    "{}\t{}\t{}\t{}{}{}",
                    u.username, u.role, site, u.display_name, active, locked
                );
            }
        }
        other => return lifecycle(other).await,
    }
    Ok(0)
}

/// The account lifecycle commands, as the command-line operator.
async fn lifecycle(c: UserCommand) -> anyhow::Result<u8> {
    let cli = Actor::command_line();
    let done = match c {
        UserCommand::ResetPassword {
            data,
            username,
            reason,
            password_stdin,
        } => {
            let trial = Trial::new(data.open().await?);
            let password = read_password(password_stdin)?;
            trial
                .reset_password_as(&cli, &username, &password, &reason)
                .await
                .map(|()| {
                    format!(
                        "new password set for {username}; she must change it at her next sign-in"
                    )
                })
        }
        UserCommand::Deactivate {
            data,
            username,
            reason,
        } => Trial::new(data.open().await?)
            .set_active_as(&cli, &username, false, &reason)
            .await
            .map(|()| format!("deactivated {username}")),
        UserCommand::Reactivate {
            data,
            username,
            reason,
        } => Trial::new(data.open().await?)
            .set_active_as(&cli, &username, true, &reason)
            .await
            .map(|()| format!("reactivated {username}")),
        UserCommand::Unlock {
            data,
            username,
            reason,
        } => Trial::new(data.open().await?)
            .unlock_as(&cli, &username, &reason)
            .await
            .map(|()| format!("unlocked {username}")),
        UserCommand::Role {
            data,
            username,
            role,
            site,
            reason,
        } => {
            let role = parse_role(&role)?;
            Trial::new(data.open().await?)
                .change_role_as(&cli, &username, role, site.as_deref(), &reason)
                .await
                .map(|()| format!("{username} is now {}", role.id()))
        }
        UserCommand::Site {
            data,
            username,
            site,
            reason,
        } => Trial::new(data.open().await?)
            .change_site_as(&cli, &username, &site, &reason)
            .await
            .map(|()| format!("{username} moved to {site}")),
        UserCommand::Add { .. } | UserCommand::List { .. } => {
            bail!("not an account lifecycle command")
        }
    };
    println!("{}", done.map_err(refused)?);
    Ok(0)
}
