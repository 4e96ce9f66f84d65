import Runtime

await DocketMain.run(DocketctlCommand.self)
