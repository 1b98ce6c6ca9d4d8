//! `readvar` (`rv`), `readlist` (`rl`), `clockvar` (`cv`), `clocklist`
//! (`cl`), `mreadvar` (`mrv`), `mreadlist` (`mrl`), the variable list of
//! `addvars`/`rmvars`/`clearvars`/`showvars`, and `writevar`/`writelist`.

use super::cooked::{self, VarKind};
use super::shell::Shell;
use super::values::ValueContext;
use crate::proto::control::{opcode, MAX_FRAGMENT_DATA};
use crate::proto::varlist;

/// A list of variables to ask for: names, some with values.
pub type VarList = Vec<(String, Option<String>)>;

/// Adds `name[=value][,...]` to LIST, replacing the value of a name
/// already there (ntpq's doaddvlist).
pub fn add_vars(list: &mut VarList, text: &str) {
    for var in varlist::parse(text.as_bytes()) {
        let value = match (var.value, var.quoted) {
            (Some(v), true) => Some(format!("\"{v}\"")),
            (v, _) => v,
        };
        match list.iter_mut().find(|(n, _)| *n == var.name) {
            Some(slot) => slot.1 = value,
            None => list.push((var.name, value)),
        }
    }
}

/// Removes names from the global list, complaining about unknown ones.
pub fn remove_vars(sh: &mut Shell, text: &str) {
    for var in varlist::parse(text.as_bytes()) {
        match sh.varlist.iter().position(|(n, _)| *n == var.name) {
            Some(i) => {
                sh.varlist.remove(i);
            }
            None => sh.error(&format!("Variable `{}' not found", var.name)),
        }
    }
}

/// `showvars`.
pub fn show_vars(sh: &mut Shell) {
    if sh.varlist.is_empty() {
        sh.say("No variables on list\n");
        return;
    }
    let text: String = sh
        .varlist
        .iter()
        .map(|(n, v)| match v {
            Some(v) => format!("{n}={v}\n"),
            None => format!("{n}\n"),
        })
        .collect();
    sh.say(&text);
}

/// The request data for a list: `name,name=value,...`, as much as fits
/// in one request.
fn query_data(sh: &mut Shell, list: &VarList) -> Vec<u8> {
    let mut data = String::new();
    for (name, value) in list {
        let item = match value {
            Some(v) => format!("{name}={v}"),
            None => name.clone(),
        };
        let sep = usize::from(!data.is_empty());
        if data.len() + sep + item.len() > MAX_FRAGMENT_DATA {
            sh.error(&format!("***Ignoring variables starting with `{name}'"));
            break;
        }
        if sep == 1 {
            data.push(',');
        }
        data.push_str(&item);
    }
    data.into_bytes()
}

/// ntpq's checkassocid: association IDs are 1 to 65535.
pub fn check_association(sh: &mut Shell, value: u32) -> Option<u16> {
    match u16::try_from(value) {
        Ok(id) if id != 0 => Some(id),
        _ => {
            sh.error(&format!("***Invalid association ID {value} specified"));
            None
        }
    }
}

/// Asks for LIST (all variables when empty) of one association and prints
/// them; false if the query failed (ntpq's dolist).
pub fn print_list(sh: &mut Shell, list: &VarList, association: u16, op: u8, kind: VarKind) -> bool {
    let quiet = !list.is_empty();
    let data = query_data(sh, list);
    let Some(r) = sh.query(op, association, &data) else {
        return false;
    };
    let mut text = String::new();
    if sh.many_hosts() {
        text.push_str(&format!("server={} ", sh.host_name()));
    }
    let clock = if kind == VarKind::Clock { " clock" } else { "" };
    if r.data.is_empty() {
        if association == 0 {
            text.push_str(&format!("No system{clock} variables returned\n"));
        } else {
            text.push_str(&format!(
                "No information returned for{clock} association {association}\n"
            ));
        }
        sh.say(&text);
        return true;
    }
    if !quiet {
        text.push_str(&format!("associd={association} "));
    }
    if sh.raw {
        text.push_str(&cooked::raw(r.status, &r.data, quiet));
    } else {
        let ctx = ValueContext::current();
        text.push_str(&cooked::cooked(
            kind,
            r.status,
            &r.data,
            quiet,
            &mut sh.names,
            &ctx,
        ));
    }
    sh.say(&text);
    true
}

fn kind_of(association: u16) -> VarKind {
    if association == 0 {
        VarKind::System
    } else {
        VarKind::Peer
    }
}

/// Association argument of readvar & co.: absent or 0 means the system.
fn association_arg(sh: &mut Shell, arg: Option<u32>) -> Option<u16> {
    match arg {
        None | Some(0) => Some(0),
        Some(v) => check_association(sh, v),
    }
}

/// `readvar [assoc] [name[,name...]] ...`.
pub fn readvar(sh: &mut Shell, association: Option<u32>, vars: &[String]) {
    let Some(id) = association_arg(sh, association) else {
        return;
    };
    let mut list = VarList::new();
    for v in vars {
        add_vars(&mut list, v);
    }
    print_list(sh, &list, id, opcode::READVAR, kind_of(id));
}

/// `readlist [assoc]`: the variables of the global list.
pub fn readlist(sh: &mut Shell, association: Option<u32>) {
    let Some(id) = association_arg(sh, association) else {
        return;
    };
    let list = sh.varlist.clone();
    print_list(sh, &list, id, opcode::READVAR, kind_of(id));
}

/// `clockvar [assoc] [name,...]`.
pub fn clockvar(sh: &mut Shell, association: Option<u32>, vars: Option<&str>) {
    let Some(id) = association_arg(sh, association) else {
        return;
    };
    let mut list = VarList::new();
    if let Some(v) = vars {
        add_vars(&mut list, v);
    }
    print_list(sh, &list, id, opcode::READCLOCK, VarKind::Clock);
}

/// `clocklist [assoc]`.
pub fn clocklist(sh: &mut Shell, association: Option<u32>) {
    let Some(id) = association_arg(sh, association) else {
        return;
    };
    let list = sh.varlist.clone();
    print_list(sh, &list, id, opcode::READCLOCK, VarKind::Clock);
}

/// The positions in the association list of two IDs, in list order
/// (ntpq's findassidrange).
fn association_range(sh: &mut Shell, first: u32, second: u32) -> Option<(usize, usize)> {
    if sh.associations.is_empty() {
        sh.fetch_associations();
    }
    let a = check_association(sh, first)?;
    let b = check_association(sh, second)?;
    let mut at = [0usize; 2];
    for (slot, id) in at.iter_mut().zip([a, b]) {
        match sh.associations.iter().position(|x| x.id == id) {
            Some(i) => *slot = i,
            None => {
                sh.error(&format!("***Association ID {id} not found in list"));
                return None;
            }
        }
    }
    Some((at[0].min(at[1]), at[0].max(at[1])))
}

/// `mreadvar assocA assocB [name,...]`: readvar for each association from
/// A to B of the list.
pub fn mreadvar(sh: &mut Shell, first: u32, second: u32, vars: Option<&str>) {
    let Some((from, to)) = association_range(sh, first, second) else {
        return;
    };
    let list = match vars {
        Some(v) => {
            let mut list = VarList::new();
            add_vars(&mut list, v);
            list
        }
        None => sh.varlist.clone(),
    };
    for i in from..=to {
        let id = sh.associations[i].id;
        if !print_list(sh, &list, id, opcode::READVAR, VarKind::Peer) {
            break;
        }
    }
}

/// `mreadlist assocA assocB`: readlist for each, a blank line between.
pub fn mreadlist(sh: &mut Shell, first: u32, second: u32) {
    let Some((from, to)) = association_range(sh, first, second) else {
        return;
    };
    let list = sh.varlist.clone();
    for i in from..=to {
        if i != from {
            sh.say("\n");
        }
        let id = sh.associations[i].id;
        if !print_list(sh, &list, id, opcode::READVAR, VarKind::Peer) {
            return;
        }
    }
}

/// Sends LIST as a write (WRITEVAR, signed) and prints what ntpd
/// answers: usually nothing, `done! (no data returned)`.
fn write_list(sh: &mut Shell, list: &VarList, association: u16) {
    let data = query_data(sh, list);
    let Some(r) = sh.query_signed(opcode::WRITEVAR, association, &data) else {
        return;
    };
    let mut text = String::new();
    if sh.many_hosts() {
        text.push_str(&format!("server={} ", sh.host_name()));
    }
    if r.data.is_empty() {
        text.push_str("done! (no data returned)\n");
    } else {
        text.push_str(&format!("associd={association} "));
        if sh.raw {
            text.push_str(&cooked::raw(r.status, &r.data, false));
        } else {
            let ctx = ValueContext::current();
            text.push_str(&cooked::cooked(
                kind_of(association),
                r.status,
                &r.data,
                false,
                &mut sh.names,
                &ctx,
            ));
        }
    }
    sh.say(&text);
}

/// `writevar assocID name=value[,...]`.
pub fn writevar(sh: &mut Shell, association: u32, vars: &str) {
    let Some(id) = association_arg(sh, Some(association)) else {
        return;
    };
    let mut list = VarList::new();
    add_vars(&mut list, vars);
    write_list(sh, &list, id);
}

/// `writelist [assocID]`: the variables of the global list.
pub fn writelist(sh: &mut Shell, association: Option<u32>) {
    let Some(id) = association_arg(sh, association) else {
        return;
    };
    let list = sh.varlist.clone();
    write_list(sh, &list, id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_lists_merge_names_and_values() {
        let mut list = VarList::new();
        add_vars(&mut list, "leap,stratum");
        add_vars(&mut list, "stratum=3, version=\"x y\"");
        assert_eq!(
            list,
            vec![
                ("leap".to_string(), None),
                ("stratum".to_string(), Some("3".to_string())),
                ("version".to_string(), Some("\"x y\"".to_string())),
            ]
        );
    }
}
