//! The OpenAPI document served at `/openapi.json`, built from the handlers' annotations so
//! that it cannot drift from the routes.

use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::dto;
use crate::error::{ErrorBody, ErrorDetail};
use crate::handlers::{
    accounts, admin, admin_accounts, admin_fields, admin_macros, contacts, dead_letters, files, notifier, search,
    stream, system, tickets, webhooks,
};
use crate::widget::{self, dto as wd};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Switchboard", description = "Omnichannel support inbox: every customer message becomes a ticket."),
    paths(
        system::healthz,
        system::metrics,
        accounts::create_account, accounts::list_accounts, accounts::get_account,
        accounts::list_templates, accounts::create_template, accounts::sync_templates,
        tickets::list_tickets, tickets::create_ticket, tickets::get_ticket, tickets::patch_ticket,
        tickets::list_messages, tickets::create_message, tickets::list_events,
        contacts::list_contacts, contacts::get_contact, contacts::patch_contact, contacts::merge_contacts,
        notifier::get_notifier,
        search::search, search::list_views, search::create_view, search::delete_view, search::patch_view,
        search::order_views,
        stream::stream_events,
        webhooks::receive_api, webhooks::receive,
        dead_letters::list_dead_letters, dead_letters::replay_dead_letter,
        files::upload_file, files::download_file, files::message_attachment,
        widget::api::create_visitor, widget::api::identify, widget::api::overview, widget::api::list_conversations,
        widget::api::list_tickets, widget::api::start_conversation, widget::api::get_conversation,
        widget::api::send_message, widget::api::read_conversation, widget::api::stream,
        admin_accounts::patch_account, admin_accounts::delete_account, admin_accounts::account_health,
        admin::list_agents, admin::create_agent, admin::patch_agent, admin::list_teams, admin::create_team,
        admin::patch_team, admin::list_tokens, admin::create_token, admin::revoke_token, admin::get_settings,
        admin::patch_settings, admin::get_audit_log,
        admin_fields::list_fields, admin_fields::create_field, admin_fields::delete_field,
        admin_macros::list_macros, admin_macros::create_macro, admin_macros::delete_macro, admin_macros::apply_macro,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, dto::AccountIn, dto::AccountOut, dto::AccountList, dto::TicketOut, dto::TicketList,
        dto::TicketPatchIn, dto::TagChanges, dto::MessageIn, dto::MessageOut, dto::MessageList, dto::EventOut,
        dto::EventList, dto::NewTicketIn, dto::NewTicketOut, dto::ContactOut, dto::ContactList, dto::ContactPatchIn,
        dto::MergeIn, dto::IdentityOut, dto::ReplyWindowOut, dto::AttachmentIo, dto::AuthorOut,
        dto::TemplateIn, dto::TemplateOut, dto::TemplateList, dto::TemplateSendIn, dto::FirstMessageIn,
        webhooks::IngestReport, dead_letters::DeadLetterOut, dead_letters::DeadLetterList, files::FileOut,
        search::SearchOut, search::ViewOut, search::ViewList, search::ViewIn, search::ViewPatchIn,
        search::ViewOrderIn, search::SavedViewOut, search::SavedViewList,
        wd::VisitorIn, wd::VisitorOut, wd::IdentifyIn, wd::IdentifyOut, wd::SendIn, wd::BadgesOut, wd::WidgetTicketOut,
        wd::WidgetConversationOut, wd::OverviewOut, wd::WidgetConversationList, wd::WidgetTicketList,
        wd::WidgetMessageOut, wd::ThreadOut,
        admin_accounts::AccountPatchIn, admin_accounts::HealthOut, admin_accounts::SendErrorOut,
        admin::AgentOut, admin::AgentList, admin::AgentIn, admin::AgentPatchIn, admin::TeamOut, admin::TeamList,
        admin::TeamIn, admin::TeamPatchIn, admin::TokenOut, admin::TokenList, admin::TokenIn, admin::SettingsOut,
        admin::SettingsPatchIn, admin::AuditEntryOut, admin::AuditLog,
        admin_fields::FieldOut, admin_fields::FieldList, admin_fields::FieldIn,
        admin_macros::MacroOut, admin_macros::MacroList, admin_macros::MacroIn,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
