import Runtime

await DocketMain.run(HelpDeskSimCommand.self)
